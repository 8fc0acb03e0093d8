// Package web holds the timeline page that eventlog serve answers at /
// (issue 18), built and embedded, so that the binary needs no Node and
// the page no network beyond its server.
//
// The sources are plain ES modules under src/, bundled by esbuild
// (build.mjs) into dist/: index.html and content-hashed files under
// assets/. dist/ is committed, so go install works without Node; CI
// rebuilds it and fails when the committed build differs.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Assets returns the built page: index.html at the root, the hashed
// script and stylesheet under assets/.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: a programming error
	}
	return sub
}
