package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestBuiltPage checks the committed build: index.html loads one module
// script and one stylesheet, both hashed files that exist under assets/,
// and holds no inline script, style or event handler, which the server's
// Content-Security-Policy would refuse.
func TestBuiltPage(t *testing.T) {
	page, err := fs.ReadFile(Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(html, -1)
	hashed := regexp.MustCompile(`^/assets/app-[A-Z0-9]{8}\.(js|css)$`)
	kinds := map[string]bool{}
	for _, r := range refs {
		if !hashed.MatchString(r[1]) {
			t.Errorf("index.html names %s, not a hashed asset", r[1])
			continue
		}
		kinds[r[1][strings.LastIndex(r[1], ".")+1:]] = true
		if _, err := fs.Stat(Assets(), strings.TrimPrefix(r[1], "/")); err != nil {
			t.Errorf("index.html names %s, which the build lacks: %v", r[1], err)
		}
	}
	if !kinds["js"] || !kinds["css"] {
		t.Errorf("index.html loads %v, want a script and a stylesheet", refs)
	}
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0], `src="/assets/`) {
		t.Errorf("scripts %q, want one external module", scripts)
	}
	for _, inline := range []*regexp.Regexp{
		regexp.MustCompile(`<script[^>]*>[^<]+</script>`), regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	} {
		if m := inline.FindString(html); m != "" {
			t.Errorf("index.html holds %q, which the page's CSP refuses", m)
		}
	}
}
