package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/eventlogdb/eventlog/server"
)

// Settings of the routes that take documents from outside tools (/es, the
// GitLab receiver): see server.IngestRoute and server.GitLabConfig.

// esDefaultProvider sets the provider of /es documents without one:
// "index" (the default) names the index they were sent to.
func esDefaultProvider(c *serveConfig, v string) error {
	if v == "index" {
		v = ""
	}
	c.server.ES.DefaultProvider = v
	return nil
}

// providerPolicy parses a ProviderPolicy setting: register or strict.
func providerPolicy(field func(*serveConfig) *server.ProviderPolicy) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		p, err := server.ParseProviderPolicy(v)
		*field(c) = p
		return err
	}
}

// gitlabTokenFile reads the GitLab receiver's verification tokens: one a
// line, each optionally followed by the spaces its events go to
// (separated by commas); blank lines and # comments are skipped. "off"
// (the default) leaves the receiver disabled.
func gitlabTokenFile(c *serveConfig, v string) error {
	c.server.GitLab.Tokens = nil
	if v == "off" {
		return nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) > 2:
			return fmt.Errorf("%s:%d: want TOKEN [SPACE,...], got %d words", v, i+1, len(fields))
		case len(fields[0]) < 16:
			return fmt.Errorf("%s:%d: a token of %d characters is too short to be secret: GitLab's are 16 to 24 characters", v, i+1, len(fields[0]))
		}
		tok := server.GitLabToken{Token: fields[0]}
		if len(fields) == 2 {
			tok.Spaces = strings.Split(fields[1], ",")
			if slices.Contains(tok.Spaces, "") {
				return fmt.Errorf("%s:%d: an empty space name in %q", v, i+1, fields[1])
			}
		}
		c.server.GitLab.Tokens = append(c.server.GitLab.Tokens, tok)
	}
	if len(c.server.GitLab.Tokens) == 0 {
		return fmt.Errorf("%s holds no token", v)
	}
	return nil
}
