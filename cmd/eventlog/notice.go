package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/server"
)

// runNotice is eventlog notice: the privacy notice of a running server
// (GET /api/_privacy), or of the settings eventlog serve would take from
// --config and the environment, without opening the data directory.
func runNotice(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("notice", stderr)
	rawURL := addURLFlag(fs)
	format := fs.String("format", "text", "text or json")
	config := fs.String("config", "", "the YAML settings file of eventlog serve, without --url (env "+envConfig+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json: %w", *format, errUsage)
	}
	client, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	var n privacy.Notice
	if client != nil {
		if err := client.Do(context.Background(), http.MethodGet, "api/_privacy", nil, nil, &n); err != nil {
			return err
		}
	} else if n, err = configNotice(*config, *data, isSet(fs, "data"), stderr); err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(n)
	}
	return n.WriteText(stdout)
}

// configNotice is the notice of the serve settings of file (and the
// environment), for the data directory data when it was given.
func configNotice(file, data string, dataSet bool, stderr io.Writer) (privacy.Notice, error) {
	var args []string
	if file != "" {
		args = append(args, "--config", file)
	}
	if dataSet { // where the key file must not be
		args = append(args, "--data", data)
	}
	cfg, err := loadServeConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return privacy.Notice{}, err
	}
	n := eventlog.NoticeOf(cfg.dbOptions(server.NewMetrics(), nil))
	n.Access.MutualTLS = cfg.tls.ClientCA != ""
	n.Access.Readers = privacy.ReadersWithoutAuth
	return n, nil
}
