package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
)

// Request bodies may arrive gzip-compressed (Content-Encoding: gzip), as
// shippers and the Elasticsearch clients send them when told to compress.
// The body limit and the in-flight budget apply to the decompressed bytes,
// so a small compressed body cannot expand past them; the rate floor
// applies to the bytes on the wire.

// gzipReadCloser decompresses a request body and closes the body under it.
type gzipReadCloser struct {
	*gzip.Reader
	under io.Closer
}

func (g gzipReadCloser) Close() error { return g.under.Close() }

// decodedBody returns the reader of r's body after its Content-Encoding
// (none, identity or gzip; 415 otherwise) and the length it declares (-1:
// unknown, as for any compressed body), reading through under.
func decodedBody(r *http.Request, under io.ReadCloser) (io.ReadCloser, int64, error) {
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return under, r.ContentLength, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(under)
		if err != nil {
			return nil, 0, errorf(http.StatusBadRequest, typeInvalidRequest, "the body is not gzip, though Content-Encoding says so: %v", err)
		}
		return gzipReadCloser{Reader: zr, under: under}, -1, nil
	default:
		return nil, 0, errorf(http.StatusUnsupportedMediaType, typeUnsupportedMedia,
			"Content-Encoding %s is not accepted; send the body uncompressed or gzip", enc)
	}
}
