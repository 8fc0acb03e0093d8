package server

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/auth"
)

// The timeline page (issue 18): Config.UI holds its built files,
// index.html at the root and content-hashed files under assets/. The
// page is public, as the login page of any site is: it holds no data, and
// every API call it makes carries the key the user types.

// pageCSP forbids inline scripts and styles, eval and every foreign
// origin: the page loads its script and stylesheet from this server and
// talks only to its API. img-src allows data: for the icons the
// stylesheet draws; blob: URLs are how exports are saved, by navigation,
// which no directive governs.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Cache policies: an asset whose name holds its content hash never
// changes (a new build gets new names); index.html, which names them,
// is revalidated on every load so a new binary is seen at once.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// hashedName matches the names esbuild gives built files: name-HASH.ext,
// HASH eight upper-case letters or digits (web/build.mjs).
var hashedName = regexp.MustCompile(`-[A-Z0-9]{8}\.[a-z]+$`)

// contentTypes are the types of the files a build holds. A table of our
// own, not mime.TypeByExtension, whose answers depend on the host's
// /etc/mime.types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// handlePage answers GET / with the page (404 when the server has none).
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) error {
	return s.servePageFile(w, r, "index.html")
}

// handleAsset answers GET /assets/{file} with a built file.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) error {
	return s.servePageFile(w, r, path.Join("assets", r.PathValue("file")))
}

// servePageFile answers one file of Config.UI with its type, cache policy
// and the page's security headers; http.ServeContent handles HEAD, ranges
// and conditional requests.
func (s *Server) servePageFile(w http.ResponseWriter, r *http.Request, name string) error {
	if s.cfg.UI == nil {
		return errorf(http.StatusNotFound, typeNotFound, "this server has no web page")
	}
	f, err := s.cfg.UI.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errorf(http.StatusNotFound, typeNotFound, "no file %s", name)
		}
		return err
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return errorf(http.StatusInternalServerError, typeInternal, "page file %s cannot seek", name)
	}
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	if hashedName.MatchString(name) {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	http.ServeContent(w, r, name, time.Time{}, rs)
	return nil
}

// wantsPage reports whether an unmatched request gets the page instead of
// a JSON 404: a browser navigating to one of the page's own URLs (a
// GET or HEAD accepting text/html) outside the API's paths, so that API
// clients keep their JSON errors.
func (s *Server) wantsPage(r *http.Request) bool {
	if s.cfg.UI == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html") && !apiPath(r.URL.Path)
}

// apiPrefixes are the paths under which only the API answers.
var apiPrefixes = []string{"/api", "/es", "/internal", "/metrics"}

// apiPath reports whether p is an API path: under one of apiPrefixes, or
// under /s/{space}/api.
func apiPath(p string) bool {
	under := func(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
	for _, prefix := range apiPrefixes {
		if under(p, prefix) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(p, "/s/"); ok {
		_, after, _ := strings.Cut(rest, "/")
		return under("/"+after, "/api")
	}
	return false
}

// whoami is the answer of GET /api/_security/_authenticate: what the
// caller's key grants, so that a client (the page) can show it. A server
// without keys answers authenticated false: every call is allowed.
type whoami struct {
	Authenticated bool      `json:"authenticated"`
	ID            string    `json:"id,omitempty"`
	Name          string    `json:"name,omitempty"`
	Role          auth.Role `json:"role,omitzero"`
	Spaces        []string  `json:"spaces,omitempty"`
	Expiration    time.Time `json:"expiration,omitzero"`
}

// handleAuthenticate answers who the request's key is (Elasticsearch's
// _security/_authenticate): any role may ask about its own key.
func (s *Server) handleAuthenticate(w http.ResponseWriter, r *http.Request) error {
	k := keyOf(w)
	if k == nil {
		return writeValue(w, http.StatusOK, whoami{})
	}
	return writeValue(w, http.StatusOK, whoami{Authenticated: true, ID: k.ID, Name: k.Name, Role: k.Role,
		Spaces: k.Spaces, Expiration: k.Expires})
}
