package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/server"
)

// routeKeys is the server's key API.
const routeKeys = "api/_security/api_key"

// keysUsage is the synopsis of eventlog keys.
const keysUsage = `usage: eventlog keys create --name NAME --role ROLE [--space S]... [--expires 90d] [--format json]
       eventlog keys list [--format json]
       eventlog keys revoke ID
each with --data DIR (a stopped store) or --url URL --api-key KEY (an admin key of a running server)
`

// runKeys manages the API keys: on a stopped store's data directory
// (--data; the directory's lock says whether a server has it open), or
// through a running server's key API with an admin key (--url).
func runKeys(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("keys", stderr)
	rawURL := addURLFlag(fs)
	format := fs.String("format", "text", "text or json")
	var spec keySpec
	fs.StringVar(&spec.name, "name", "", "create: the key's name, who or what uses it (required)")
	fs.StringVar(&spec.role, "role", "", "create: reader, writer, admin or auditor (required)")
	fs.StringArrayVar(&spec.spaces, "space", nil, "create: scope the key to this Kibana space (repeat for several); none: every space")
	fs.Var((*durationFlag)(&spec.expires), "expires", "create: the key expires this long after its creation (90d, 12h); none: never")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json: %w", *format, errUsage)
	}
	sub, rest := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	if sub != "create" {
		for _, f := range []string{"name", "role", "space", "expires"} {
			if isSet(fs, f) {
				return fmt.Errorf("--%s is a flag of keys create: %w", f, errUsage)
			}
		}
	}
	c, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	k := keysCmd{dir: *data, c: c, json: *format == "json", out: stdout}
	switch {
	case sub == "create" && len(rest) == 0:
		return k.create(spec)
	case sub == "list" && len(rest) == 0:
		return k.list()
	case sub == "revoke" && len(rest) == 1:
		return k.revoke(rest[0])
	case sub == "":
		return fmt.Errorf("want a subcommand: create, list or revoke\n%s: %w", keysUsage, errUsage)
	}
	return fmt.Errorf("%q: want create, list or revoke ID\n%s: %w", strings.Join(fs.Args(), " "), keysUsage, errUsage)
}

// keySpec is what keys create was told.
type keySpec struct {
	name, role string
	spaces     []string
	expires    time.Duration
}

// keysCmd runs a keys subcommand on a directory (c nil) or a server.
type keysCmd struct {
	dir  string
	c    *client.Client
	json bool
	out  io.Writer
}

// create makes a key and prints it once: the encoded value alone, or the
// whole answer as JSON.
func (k keysCmd) create(spec keySpec) error {
	if spec.name == "" || spec.role == "" {
		return fmt.Errorf("--name and --role are required: %w", errUsage)
	}
	role, err := auth.ParseRole(spec.role)
	if err != nil {
		return fmt.Errorf("--role: %v: %w", err, errUsage)
	}
	var created server.KeyCreated
	if k.c != nil {
		body := map[string]any{"name": spec.name, "role": role.String(), "spaces": spec.spaces}
		if spec.expires > 0 {
			body["expiration"] = formatDuration(spec.expires)
		}
		err = k.c.Do(context.Background(), http.MethodPost, routeKeys, nil, body, &created)
	} else {
		err = k.onStore(func(store *auth.Store, db *eventlog.DB) error {
			now := time.Now()
			key, secret, err := store.Create(auth.Spec{Name: spec.name, Role: role, Spaces: spec.spaces, TTL: spec.expires}, now)
			if err != nil {
				return err
			}
			created = server.NewKeyCreated(key, secret)
			return recordKeyEvent(db, server.KeyEvent(now, server.ActionKeyCreate, "success", nil, "", key))
		})
	}
	if err != nil {
		return err
	}
	if k.json {
		return printJSONValue(k.out, created)
	}
	_, err = fmt.Fprintln(k.out, created.Encoded)
	return err
}

// list prints the keys, never a secret.
func (k keysCmd) list() error {
	var keys []auth.Key
	if k.c != nil {
		var res struct {
			Keys []auth.Key `json:"api_keys"`
		}
		if err := k.c.Do(context.Background(), http.MethodGet, routeKeys, nil, nil, &res); err != nil {
			return err
		}
		keys = res.Keys
	} else {
		if err := requireDataDir(k.dir); err != nil {
			return err
		}
		store, err := auth.Open(nil, k.dir)
		if err != nil {
			return err
		}
		keys = store.List()
	}
	if k.json {
		return printJSONValue(k.out, map[string][]auth.Key{"api_keys": keys})
	}
	return printKeys(k.out, keys, time.Now())
}

// printKeys prints keys as a table.
func printKeys(w io.Writer, keys []auth.Key, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSPACES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, key := range keys {
		spaces := "all"
		if len(key.Spaces) > 0 {
			spaces = strings.Join(key.Spaces, ",")
		}
		status := "active"
		switch {
		case !key.Revoked.IsZero():
			status = "revoked " + day(key.Revoked)
		case !key.Active(now):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", key.ID, key.Name, key.Role, spaces,
			day(key.Created), day(key.Expires), day(key.LastUsed), status)
	}
	return tw.Flush()
}

// revoke revokes the key id.
func (k keysCmd) revoke(id string) error {
	var err error
	if k.c != nil {
		err = k.c.Do(context.Background(), http.MethodDelete, routeKeys+"/"+id, nil, nil, nil)
	} else {
		err = k.onStore(func(store *auth.Store, db *eventlog.DB) error {
			now := time.Now()
			key, err := store.Revoke(id, now)
			if err != nil {
				return err
			}
			return recordKeyEvent(db, server.KeyEvent(now, server.ActionKeyRevoke, "success", nil, "", key))
		})
	}
	if err != nil {
		return err
	}
	if k.json {
		return printJSONValue(k.out, map[string][]string{"invalidated_api_keys": {id}})
	}
	_, err = fmt.Fprintf(k.out, "revoked %s\n", id)
	return err
}

// onStore runs fn on the keys of a stopped store, holding its lock (a
// running server would overwrite the key file with its own view): the
// directory is created if it does not exist, so that the first key can be
// made before the first start.
func (k keysCmd) onStore(fn func(*auth.Store, *eventlog.DB) error) error {
	db, err := eventlog.Open(k.dir, eventlog.Options{MaintenanceInterval: -1})
	if errors.Is(err, eventlog.ErrLocked) {
		return fmt.Errorf("%s is open in another process, probably a running server: "+
			"manage its keys through it (--url http://HOST:PORT --api-key ADMIN_KEY), or stop it first", k.dir)
	}
	if err != nil {
		return err
	}
	store, err := auth.Open(nil, k.dir)
	if err == nil {
		err = fn(store, db)
	}
	return errors.Join(err, db.Close())
}

// recordKeyEvent stores a key's audit event in the store.
func recordKeyEvent(db *eventlog.DB, ev eventlog.Event) error {
	if _, err := db.AppendInternal(context.Background(), ev); err != nil {
		return fmt.Errorf("the key is changed, but its audit event was not stored: %w", err)
	}
	return nil
}
