package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/integrity"
)

// runIntegrity is `eventlog integrity
// pubkey|head|heads|proof|consistency|compact` on a data directory
// (read-only: a running server's directory too, except head --sign and
// compact, which need it stopped), or through a server (--url, with
// an admin or auditor key; head --sign needs an admin key).
func runIntegrity(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("integrity", stderr)
	rawURL := addURLFlag(fs)
	sign := fs.Bool("sign", false, "head: sign a new head over every durable event first (the store must not be served, or use --url)")
	treeSize := fs.Uint64("tree-size", 0, "proof: the tree size to prove against (0: the latest signed head)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return fmt.Errorf("integrity: want pubkey, head, heads, proof ID, consistency FROM TO or compact: %w", errUsage)
	}
	c, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	if c != nil && rest[0] == "compact" {
		return fmt.Errorf("integrity compact: runs on a stopped store's --data directory, not over --url: %w", errUsage)
	}
	if c != nil {
		return remoteIntegrity(c, rest, *sign, *treeSize, stdout)
	}
	if err := requireDataDir(*data); err != nil {
		return err
	}
	if rest[0] == "pubkey" {
		b, err := os.ReadFile(*data + "/" + eventlog.IntegrityDir + "/" + integrity.PublicKeyFile)
		if err != nil {
			return fmt.Errorf("integrity pubkey: %w (is the store opened with --integrity?)", err)
		}
		_, err = stdout.Write(b)
		return err
	}
	writes := *sign || rest[0] == "compact"
	db, err := eventlog.Open(*data, eventlog.Options{ReadOnly: !writes, Integrity: true, AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		return err
	}
	defer db.Close()
	l, _ := db.Integrity()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch rest[0] {
	case "head":
		if *sign {
			h, err := db.SignHead()
			if err != nil {
				return err
			}
			return enc.Encode(h)
		}
		h, ok := l.LatestHead()
		if !ok {
			return fmt.Errorf("integrity head: no head is signed yet (integrity head --sign, or serve --integrity-interval)")
		}
		return enc.Encode(h)
	case "heads":
		return enc.Encode(l.Heads(0, 0))
	case "proof":
		if len(rest) != 2 {
			return fmt.Errorf("integrity proof: want an event id: %w", errUsage)
		}
		p, err := db.ProveEvent(rest[1], *treeSize)
		if err != nil {
			return err
		}
		return enc.Encode(integrity.NewProofDoc(p.ID, &p.Event, p.Proof, p.Head))
	case "consistency":
		from, to, err := consistencySizes(rest)
		if err != nil {
			return err
		}
		hs, err := l.Consistency(from, to)
		if err != nil {
			return err
		}
		return enc.Encode(map[string]any{"from_size": from, "to_size": to, "hashes": hs})
	case "compact":
		st, err := l.CompactErased()
		if err != nil {
			return err
		}
		return enc.Encode(st)
	}
	return fmt.Errorf("integrity: unknown subcommand %q (pubkey, head, heads, proof, consistency, compact): %w", rest[0], errUsage)
}

// consistencySizes reads consistency FROM TO.
func consistencySizes(rest []string) (from, to uint64, err error) {
	if len(rest) != 3 {
		return 0, 0, fmt.Errorf("integrity consistency: want FROM_SIZE TO_SIZE: %w", errUsage)
	}
	from, err1 := strconv.ParseUint(rest[1], 10, 64)
	to, err2 := strconv.ParseUint(rest[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("integrity consistency: sizes must be whole numbers: %w", errUsage)
	}
	return from, to, nil
}

// remoteIntegrity is runIntegrity through a server's /api/_integrity and
// _proof routes, printing what the local form prints. pubkey is refused:
// a key fetched from the server being checked proves nothing, so it is
// taken from the data directory (or a bundle) and published away.
func remoteIntegrity(c *client.Client, rest []string, sign bool, treeSize uint64, stdout io.Writer) error {
	ctx := context.Background()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch rest[0] {
	case "pubkey":
		return fmt.Errorf("integrity pubkey: not served over --url (a key fetched from the server it is to check proves nothing): run it with --data on the server's host and keep the key elsewhere: %w", errUsage)
	case "head":
		method := http.MethodGet
		if sign {
			method = http.MethodPost
		}
		var h integrity.SignedHead
		if err := c.Do(ctx, method, "/api/_integrity/head", nil, nil, &h); err != nil {
			return err
		}
		return enc.Encode(h)
	case "heads":
		var out struct {
			Heads []integrity.SignedHead `json:"heads"`
		}
		if err := c.Do(ctx, http.MethodGet, "/api/_integrity/heads", nil, nil, &out); err != nil {
			return err
		}
		return enc.Encode(out.Heads)
	case "proof":
		if len(rest) != 2 {
			return fmt.Errorf("integrity proof: want an event id: %w", errUsage)
		}
		params := url.Values{}
		if treeSize != 0 {
			params.Set("tree_size", strconv.FormatUint(treeSize, 10))
		}
		var doc integrity.ProofDoc
		if err := c.Do(ctx, http.MethodGet, "/api/events/"+url.PathEscape(rest[1])+"/_proof", params, nil, &doc); err != nil {
			return err
		}
		if doc.Head != nil { // the server's word checked as far as it goes: its head's key is not
			if err := doc.Verify(doc.Head.Head); err != nil {
				return fmt.Errorf("integrity proof: the server's proof does not hold: %w", err)
			}
		}
		return enc.Encode(doc)
	case "consistency":
		from, to, err := consistencySizes(rest)
		if err != nil {
			return err
		}
		var out struct {
			From   uint64           `json:"from_size"`
			To     uint64           `json:"to_size"`
			Hashes []integrity.Hash `json:"hashes"`
		}
		params := url.Values{"from_size": {strconv.FormatUint(from, 10)}, "to_size": {strconv.FormatUint(to, 10)}}
		if err := c.Do(ctx, http.MethodGet, "/api/_integrity/consistency", params, nil, &out); err != nil {
			return err
		}
		return enc.Encode(map[string]any{"from_size": out.From, "to_size": out.To, "hashes": out.Hashes})
	}
	return fmt.Errorf("integrity: unknown subcommand %q (pubkey, head, heads, proof, consistency): %w", rest[0], errUsage)
}

// verifyChain is verify --chain (and --head, --pubkey).
func verifyChain(data, headFile, pubFile string, stdout io.Writer) error {
	var pub ed25519.PublicKey
	if pubFile != "" {
		b, err := os.ReadFile(pubFile)
		if err != nil {
			return fmt.Errorf("--pubkey: %w", err)
		}
		if pub, err = integrity.ParsePublicKey(b); err != nil {
			return fmt.Errorf("--pubkey %s: %w", pubFile, err)
		}
	}
	var extra []integrity.SignedHead
	if headFile != "" {
		b, err := os.ReadFile(headFile)
		if err != nil {
			return fmt.Errorf("--head: %w", err)
		}
		var h integrity.SignedHead
		if err := json.Unmarshal(b, &h); err != nil {
			return fmt.Errorf("--head %s: %w", headFile, err)
		}
		extra = append(extra, h)
	}
	// Streamed: each erased or lost position and each problem is printed
	// as it is found, so the check's memory stays bounded.
	r, err := eventlog.VerifyChainWith(data, eventlog.Options{AllowUnregistered: true}, eventlog.ChainOptions{
		PublicKey: pub, Extra: extra,
		OnErased:  func(e eventlog.ErasedLeaf) { fmt.Fprintln(stdout, e) },
		OnProblem: func(p eventlog.ChainProblem) { fmt.Fprintln(stdout, "problem:", p) },
	})
	if err != nil {
		return err
	}
	for _, f := range r.Forked {
		fmt.Fprintln(stdout, f)
	}
	for _, u := range r.Unchecked {
		fmt.Fprintln(stdout, u)
	}
	if r.ProblemCount > 0 {
		return fmt.Errorf("%d %w in the Merkle tree of %s", r.ProblemCount, errProblems, data)
	}
	fmt.Fprintf(stdout, "%s: chain ok (%d leaves: %d recomputed from the stored events, %d erased", data, r.Leaves, r.Leaves-r.ErasedCount-r.LostCount-r.UncheckedEvents, r.ErasedCount)
	if r.LostCount > 0 {
		fmt.Fprintf(stdout, ", %d lost to a repair or restore", r.LostCount)
	}
	if r.UncheckedEvents > 0 {
		fmt.Fprintf(stdout, ", %d stored but unchecked: their sealed tiles lost events", r.UncheckedEvents)
	}
	fmt.Fprintf(stdout, "; %d signed heads checked", r.Heads)
	if len(r.Forked) > 0 {
		fmt.Fprintf(stdout, ", %d of them forked by a restore", len(r.Forked))
	}
	if headFile != "" {
		fmt.Fprintf(stdout, ", including %s", headFile)
	}
	if r.Unleaved > 0 {
		fmt.Fprintf(stdout, "; %d newest events await their leaves", r.Unleaved)
	}
	fmt.Fprintln(stdout, ")")
	return nil
}
