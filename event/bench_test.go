package event

import (
	"bytes"
	"os"
	"testing"
)

// benchDocs are the documents the benchmarks run on: the schema's full
// example (every kind of field, pretty-printed) and a typical Kibana
// alerting event (compact, ~700 bytes).
var benchDocs = []struct{ name, file string }{
	{"full-example", "testdata/full-example.json"},
	{"typical", "testdata/typical-event.json"},
}

func forEachDoc(b *testing.B, fn func(b *testing.B, e *Event, doc []byte)) {
	for _, d := range benchDocs {
		b.Run(d.name, func(b *testing.B) {
			doc, err := os.ReadFile(d.file)
			if err != nil {
				b.Fatal(err)
			}
			e, err := Decode(doc, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			fn(b, &e, doc)
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	forEachDoc(b, func(b *testing.B, _ *Event, doc []byte) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := Decode(doc, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	forEachDoc(b, func(b *testing.B, e *Event, _ []byte) {
		buf := AppendJSON(nil, e)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = AppendJSON(buf[:0], e)
		}
	})
}

func BenchmarkAppendBinary(b *testing.B) {
	forEachDoc(b, func(b *testing.B, e *Event, _ []byte) {
		buf := AppendBinary(nil, e)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = AppendBinary(buf[:0], e)
		}
	})
}

func BenchmarkDecodeBinary(b *testing.B) {
	forEachDoc(b, func(b *testing.B, e *Event, _ []byte) {
		buf := AppendBinary(nil, e)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if _, err := DecodeBinary(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseDate parses the dates an ingested Kibana event carries
// (@timestamp, event.start, event.end): three or so per event.
func BenchmarkParseDate(b *testing.B) {
	dates := []string{"2026-01-16T08:42:17.125Z", "2026-01-16T08:42:16.980Z", "2026-01-16T10:42:17.125+02:00", "2019-12-09T21:16:43Z"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseDate(dates[i%len(dates)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeKept compares decoding the typical event as sent and
// with what a shipper adds outside the schema (four objects, eight
// fields, +177 bytes), kept with KeepUnknown.
//
//	go test ./event -run '^$' -bench DecodeKept
func BenchmarkDecodeKept(b *testing.B) {
	doc, err := os.ReadFile("testdata/typical-event.json")
	if err != nil {
		b.Fatal(err)
	}
	kept := append(bytes.TrimRight(bytes.Clone(doc), "}\n"), `},"agent":{"name":"vector","version":"0.31.1"},"process":{"pid":4242,"name":"kibana"},"syslog":{"facility":"local0","severity":6},"cloud":{"region":"eu-west-1","provider":"aws"}}`...)
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"schema", doc}, {"kept", kept}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeWith(c.doc, DecodeOptions{KeepUnknown: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecoder compares DecodeWith, an Event returned by value with
// new memory for its values, with a reused Decoder decoding into a chunk
// of 512 events, as the server's _bulk does (Reuse between chunks).
//
//	go test ./event -run '^$' -bench Decoder
func BenchmarkDecoder(b *testing.B) {
	const chunk = 512
	opts := DecodeOptions{Shared: true}
	forEachDoc(b, func(b *testing.B, _ *Event, doc []byte) {
		b.SetBytes(int64(len(doc)))
		events := make([]Event, chunk)
		b.Run("DecodeWith", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var err error
				if events[i%chunk], err = DecodeWith(doc, opts); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("Decoder", func(b *testing.B) {
			b.ReportAllocs()
			x := NewDecoder(opts)
			i := 0
			for b.Loop() {
				if i%chunk == 0 {
					x.Reuse()
				}
				if err := x.Decode(&events[i%chunk], doc); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}
