package main

import (
	"io"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/server"
)

// TestServeESSettings: the /es settings come from the file and flags,
// default to the index name, "log" and register, and a bad policy is an
// error naming the choices.
func TestServeESSettings(t *testing.T) {
	c, err := loadServeConfig(nil, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (server.IngestRoute{DefaultAction: "log", Providers: server.ProvidersRegister}); c.server.ES != want {
		t.Fatalf("defaults %+v, want %+v", c.server.ES, want)
	}
	file := writeConfig(t, "es-default-provider: syslog\nes-unregistered: strict\n")
	c, err = loadServeConfig([]string{"--config", file, "--es-default-action", "line"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (server.IngestRoute{DefaultProvider: "syslog", DefaultAction: "line", Providers: server.ProvidersStrict}); c.server.ES != want {
		t.Fatalf("got %+v, want %+v", c.server.ES, want)
	}
	_, err = loadServeConfig([]string{"--es-unregistered", "accept"}, envMap(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "register or strict") {
		t.Fatalf("bad policy: %v", err)
	}
}
