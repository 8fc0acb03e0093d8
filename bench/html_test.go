package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// htmlNode is an element of the report page with its attributes and text.
type htmlNode struct {
	name  string
	attrs map[string]string
	text  string
}

// parseStrict parses the page as XML, which a well-formed page is (every
// element closed, attributes quoted, no undeclared entities), returning
// its elements in document order.
func parseStrict(t *testing.T, page []byte) []htmlNode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	var nodes []htmlNode
	var open []int // indexes of the open elements
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the page is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := htmlNode{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			nodes = append(nodes, n)
			open = append(open, len(nodes)-1)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				nodes[open[len(open)-1]].text += string(tok)
			}
		}
	}
	if len(open) != 0 {
		t.Fatal("unclosed elements")
	}
	return nodes
}

func TestWriteHTML(t *testing.T) {
	r := sampleReport(1)
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) {
		t.Fatal("no doctype")
	}
	for _, remote := range []string{"http://", "https://", "src=", "href="} {
		if i := bytes.Index(page, []byte(remote)); i >= 0 && !bytes.HasPrefix(page[i:], []byte("http://www.w3.org/2000/svg")) {
			t.Fatalf("the page refers to something outside it: %q", page[i:min(i+60, len(page))])
		}
	}
	nodes := parseStrict(t, page)
	series := map[string]htmlNode{}
	svgs, texts := map[string]bool{}, ""
	var reportJSON string
	for _, n := range nodes {
		switch {
		case n.name == "svg":
			svgs[n.attrs["id"]] = true
		case n.name == "polyline":
			series[n.attrs["data-series"]] = n
		case n.name == "pre":
			texts += n.text
		case n.name == "script" && n.attrs["id"] == "report":
			reportJSON = n.text
		}
	}
	for _, id := range []string{"throughput", "latency", "spectrum"} {
		if !svgs[id] {
			t.Errorf("no svg#%s", id)
		}
	}
	want := map[string]int{"events_per_sec": len(r.Series), "p50_ms": len(r.Series), "p99_ms": len(r.Series),
		"max_ms": len(r.Series), "append_percentiles": len(r.AppendSpectrum)}
	for name, n := range want {
		pl, ok := series[name]
		if !ok {
			t.Errorf("no polyline for series %s", name)
			continue
		}
		pts := strings.Fields(pl.attrs["points"])
		if len(pts) != n || pl.attrs["data-points"] != strconv.Itoa(n) {
			t.Errorf("series %s has %d points (data-points %s), want %d", name, len(pts), pl.attrs["data-points"], n)
		}
		for _, p := range pts {
			x, y, ok := strings.Cut(p, ",")
			xf, errX := strconv.ParseFloat(x, 64)
			yf, errY := strconv.ParseFloat(y, 64)
			if !ok || errX != nil || errY != nil || xf < plotLeft-0.1 || xf > plotRight+0.1 || yf < plotTop-0.1 || yf > plotBottom+0.1 {
				t.Fatalf("series %s: point %q outside the plot", name, p)
			}
		}
	}
	// The throughput points rise as the series does (y grows downwards).
	tp := strings.Fields(series["events_per_sec"].attrs["points"])
	_, y0, _ := strings.Cut(tp[0], ",")
	_, y9, _ := strings.Cut(tp[len(tp)-1], ",")
	if a, b := mustFloat(t, y0), mustFloat(t, y9); b >= a {
		t.Errorf("throughput rises from %v to %v events/s but its y goes %v to %v", r.Series[0].EventsPerSec, r.Series[9].EventsPerSec, a, b)
	}
	if !strings.Contains(texts, "250,000 events/s") {
		t.Errorf("the page lacks the text report:\n%s", texts)
	}
	got, err := ReadReport(strings.NewReader(reportJSON))
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("embedded report does not round-trip: %v", err)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWriteHTMLEmptyRun(t *testing.T) {
	r := &Report{Version: ReportVersion}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	parseStrict(t, buf.Bytes())
	if bytes.Contains(buf.Bytes(), []byte("NaN")) || bytes.Contains(buf.Bytes(), []byte("Inf")) {
		t.Fatal("NaN or Inf in an empty run's page")
	}
}
