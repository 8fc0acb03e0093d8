package main

import "github.com/eventlogdb/eventlog/server"

// Settings of the routes that take documents from outside tools (/es, the
// GitLab receiver): see server.IngestRoute.

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
