package server

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestFilterPathMatchesModel: fieldFilter.apply keeps what an independent
// model keeps: the value of every path (arrays transparent) that one of
// the patterns matches as a regular expression over the whole path, with
// objects and arrays left empty dropped and {} for an answer left empty.
func TestFilterPathMatchesModel(t *testing.T) {
	names := []string{"a", "b", "ab", "status", "error"}
	rapid.Check(t, func(t *rapid.T) {
		doc := genObject(t, names, 3)
		src, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var pats []string
		for range rapid.IntRange(1, 3).Draw(t, "paths") {
			var segs []string
			for range rapid.IntRange(1, 3).Draw(t, "segments") {
				segs = append(segs, rapid.SampledFrom(append([]string{"*", "**", "a*", "*b"}, names...)).Draw(t, "name"))
			}
			pats = append(pats, strings.Join(segs, "."))
		}
		f, err := parseFilterPath(strings.Join(pats, ","))
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.apply(nil, src)
		if err != nil {
			t.Fatalf("apply(%s): %v", src, err)
		}
		var gotV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Fatalf("apply gave %q: %v", got, err)
		}
		want, ok := modelFilter(doc, "", patternRegexps(pats))
		if !ok {
			want = map[string]any{}
		}
		if !reflect.DeepEqual(gotV, want) {
			t.Fatalf("filter_path=%s over %s:\ngot  %s\nwant %v", strings.Join(pats, ","), src, got, want)
		}
	})
}

// patternRegexps turns each filter path into a regular expression over a
// field path written as \x00name\x00name...
func patternRegexps(pats []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range pats {
		var b strings.Builder
		b.WriteString("^")
		for _, seg := range strings.Split(p, ".") {
			if seg == "**" {
				b.WriteString(`(?:\x00[^\x00]*)*`)
				continue
			}
			b.WriteString(`\x00`)
			b.WriteString(strings.ReplaceAll(regexp.QuoteMeta(seg), `\*`, `[^\x00]*`))
		}
		b.WriteString("$")
		out = append(out, regexp.MustCompile(b.String()))
	}
	return out
}

// modelFilter keeps v whole when a pattern matches its path, else what its
// members or elements keep.
func modelFilter(v any, path string, res []*regexp.Regexp) (any, bool) {
	if path != "" {
		for _, re := range res {
			if re.MatchString(path) {
				return v, true
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, m := range v {
			if fm, ok := modelFilter(m, path+"\x00"+k, res); ok {
				out[k] = fm
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, e := range v {
			if fe, ok := modelFilter(e, path, res); ok {
				out = append(out, fe)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

func genObject(t *rapid.T, names []string, depth int) map[string]any {
	out := map[string]any{}
	for range rapid.IntRange(0, 4).Draw(t, "members") {
		out[rapid.SampledFrom(names).Draw(t, "key")] = genValue(t, names, depth-1)
	}
	return out
}

func genValue(t *rapid.T, names []string, depth int) any {
	kind := rapid.IntRange(0, 4).Draw(t, "kind")
	if depth <= 0 {
		kind %= 3
	}
	switch kind {
	case 0:
		return float64(rapid.IntRange(-5, 500).Draw(t, "number"))
	case 1:
		return rapid.SampledFrom([]string{"", "x", `q"uote`, `b\s`, "{[,:]}"}).Draw(t, "string")
	case 2:
		return rapid.SampledFrom([]any{true, false, nil}).Draw(t, "literal")
	case 3:
		return genObject(t, names, depth)
	default:
		var arr []any
		for range rapid.IntRange(0, 3).Draw(t, "elements") {
			arr = append(arr, genValue(t, names, depth-1))
		}
		if arr == nil {
			arr = []any{}
		}
		return arr
	}
}

func TestParseFilterPathRejects(t *testing.T) {
	for v, want := range map[string]string{
		"errors,,items":   "path 2 is empty",
		"-items._id":      `path 1 ("-items._id"): exclusions are not supported`,
		"items..status":   `bad field name ""`,
		"items.[a].error": `bad field name "[a]"`,
	} {
		if _, err := parseFilterPath(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFilterPath(%q) = %v, want %q", v, err, want)
		}
	}
	if _, err := parseFilterPath(strings.Repeat("a,", maxFilterPaths) + "a"); err == nil {
		t.Errorf("%d paths accepted", maxFilterPaths+1)
	}
}

// FuzzFilterPath: any filter_path either is refused by parseFilterPath or
// filters an Elasticsearch _bulk answer into valid JSON that is the
// answer's or smaller, without panicking.
func FuzzFilterPath(f *testing.F) {
	answer := []byte(`{"took":3,"errors":true,"items":[{"create":{"_index":"syslog","_id":"h-1","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":1,"_primary_term":1,"status":201}},{"delete":{"_index":"syslog","_id":"x","status":400,"error":{"type":"illegal_argument_exception","reason":"line 3: \"quoted\", [not] {json}"}}}]}`)
	for _, seed := range []string{"errors,items.*.error,items.*.status", "**", "items.**._id", "took,*", "-items", "a..b", "items.*.[x]", "**.**.*", "*r*"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ff, err := parseFilterPath(v)
		if err != nil || ff == nil {
			return
		}
		out, err := ff.apply(nil, answer)
		if err != nil || !json.Valid(out) || len(out) > len(answer) {
			t.Fatalf("filter_path=%q: %q, %v", v, out, err)
		}
	})
}
