package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// Elasticsearch's _bulk under /es: NDJSON pairs of an action line
// ({"index":{"_index":...,"_id":...}}) and a document. index and create
// store the document through the native _bulk's machinery (bulk.go);
// update and delete fail their item with 400, as events are immutable. The
// answer is Elasticsearch's, item by item, so the clients' error handling
// and retries work unchanged.

// esMediaTypes are the media types of an /es body: NDJSON, JSON, and the
// vendor types the v8 clients send in compatibility mode.
var esMediaTypes = []string{
	"application/x-ndjson", "application/json",
	"application/vnd.elasticsearch+x-ndjson", "application/vnd.elasticsearch+json",
}

// esOp is a bulk action.
type esOp uint8

const (
	esIndex esOp = iota
	esCreate
	esUpdate
	esDelete
)

var esOpNames = [...]string{esIndex: "index", esCreate: "create", esUpdate: "update", esDelete: "delete"}

func (o esOp) String() string { return esOpNames[o] }

// esItem is what an action line says of its item.
type esItem struct {
	op    esOp
	index string
	id    string // the client's _id; "" when none was given
}

// esMeta is the metadata of an action line. Other members (routing,
// pipeline, require_alias...) are accepted and ignored.
type esMeta struct {
	Index string  `json:"_index"`
	ID    *string `json:"_id"`
}

// maxESIDBytes bounds an _id, as Elasticsearch does.
const maxESIDBytes = 512

// handleESBulk serves POST|PUT /es/_bulk and /es/{index}/_bulk.
func (s *Server) handleESBulk(w http.ResponseWriter, r *http.Request) error {
	index := r.PathValue("index")
	k := keyOf(w)
	filter, err := parseFilterPath(r.URL.Query().Get(filterPathParam))
	if err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%s: %v", filterPathParam, err)
	}
	return s.serveBulk(w, r, bulkProtocol{
		mediaTypes: esMediaTypes,
		parse: func(b *bulk, body []byte) error {
			if err := b.splitES(body, index); err != nil {
				return err
			}
			b.register = s.cfg.ES.Providers == ProvidersRegister
			b.keep = true // shippers send more than the schema: host, agent, syslog...
			b.decodeAs(k, func(i int, ev *event.Event) { s.completeES(ev, &b.es[i]) })
			return nil
		},
		respond: func(b *bulk, dst []byte, took time.Duration) ([]byte, int) {
			dst = b.appendESResponse(dst, took)
			if filter == nil {
				return dst, http.StatusOK
			}
			// Filtered after the answer, in the same buffer.
			n := len(dst)
			out, err := filter.apply(dst, dst[:n])
			if err != nil { // the server's own answer: cannot happen; the whole answer is still Elasticsearch's
				return dst[:n], http.StatusOK
			}
			return append(dst[:0], out[n:]...), http.StatusOK
		},
	})
}

// splitES reads the action/document pairs of body; index is the path's
// index, the default of the actions that name none. A malformed action
// line, or one without its document, fails the whole request (nothing is
// stored), as in Elasticsearch: the pairs after it cannot be told apart.
func (b *bulk) splitES(body []byte, index string) error {
	lines := lineReader{body: body}
	for {
		text, n, ok := lines.next()
		if !ok {
			return nil
		}
		op, meta, err := parseESAction(text)
		if err != nil {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "line %d: malformed action/metadata line: %v", n, err)
		}
		var doc []byte
		if op != esDelete {
			if doc, _, ok = lines.next(); !ok {
				return errorf(http.StatusBadRequest, typeInvalidRequest,
					"line %d: the %s action has no document line after it", n, op)
			}
		}
		if len(b.items) == maxEventsPerRequest {
			return errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
				"more than %d actions in one request; split the body", maxEventsPerRequest)
		}
		it := esItem{op: op, index: meta.Index}
		if it.index == "" {
			it.index = index
		}
		if meta.ID != nil {
			it.id = *meta.ID
		}
		if err := it.check(n, meta.ID != nil); err != nil {
			doc = nil
			b.add(n, nil, err)
		} else {
			b.add(n, doc, nil)
		}
		b.es = append(b.es, it)
	}
}

// check fails an item the store cannot take whatever its document: an
// update or delete, or an action without index or with a bad _id.
func (it *esItem) check(line int, hasID bool) error {
	switch {
	case it.op == esUpdate || it.op == esDelete:
		return &esItemError{http.StatusBadRequest, esIllegalArgument, fmt.Sprintf(
			"line %d: %s is not supported: events are immutable, eventlog stores them once and never changes or removes a single one (send index or create)",
			line, it.op)}
	case it.index == "":
		return &esItemError{http.StatusBadRequest, esValidationFailed, "Validation Failed: 1: index is missing;"}
	case checkESIndex(it.index) != nil:
		return &esItemError{http.StatusBadRequest, esInvalidIndexName, checkESIndex(it.index).Error()}
	case hasID && it.id == "":
		return &esItemError{http.StatusBadRequest, esValidationFailed, "Validation Failed: 1: if _id is specified it must not be empty;"}
	case len(it.id) > maxESIDBytes:
		return &esItemError{http.StatusBadRequest, esValidationFailed, fmt.Sprintf(
			"Validation Failed: 1: id [%.20s...] is too long, must be no longer than %d bytes but was: %d;", it.id, maxESIDBytes, len(it.id))}
	}
	return nil
}

// parseESAction decodes an action line: one member, index, create, update
// or delete, whose value is the metadata object.
func parseESAction(line []byte) (esOp, esMeta, error) {
	var m map[string]esMeta
	if err := json.Unmarshal(line, &m); err != nil {
		return 0, esMeta{}, err
	}
	if len(m) != 1 {
		return 0, esMeta{}, fmt.Errorf("expected one action, found %d members", len(m))
	}
	var name string
	var meta esMeta
	for name, meta = range m { // the one member
	}
	for op, n := range esOpNames {
		if name == n {
			return esOp(op), meta, nil
		}
	}
	return 0, esMeta{}, fmt.Errorf("expected one of [create, delete, index, update] but found [%s]", name)
}

// lineReader yields the non-blank lines of a body with their numbers
// (from 1, blank lines counted): the lines of both _bulk protocols.
type lineReader struct {
	body []byte
	line int
}

func (l *lineReader) next() ([]byte, int, bool) {
	for len(l.body) > 0 {
		text := l.body
		if i := bytes.IndexByte(l.body, '\n'); i >= 0 {
			text, l.body = l.body[:i], l.body[i+1:]
		} else {
			l.body = nil
		}
		l.line++
		if !isBlank(text) {
			return text, l.line, true
		}
	}
	return nil, 0, false
}

// appendESResponse appends Elasticsearch's answer:
// {"took","errors","items":[{"index":{...}}]}, one item per action, in
// order.
func (b *bulk) appendESResponse(dst []byte, took time.Duration) []byte {
	b.failCreateDuplicates()
	dst = b.appendHead(dst, took, 200)
	for i := range b.items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = appendString(dst, b.es[i].op.String())
		dst = append(dst, ':')
		dst = b.appendESItem(dst, i)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendESItem appends the result object of item i.
func (b *bulk) appendESItem(dst []byte, i int) []byte {
	it, es := &b.items[i], &b.es[i]
	dst = append(dst, `{"_index":`...)
	dst = appendString(dst, es.index)
	dst = append(dst, `,"_id":`...)
	switch {
	case es.id != "":
		dst = appendString(dst, es.id)
	case it.fail == 0:
		dst = appendID(dst, it.seq)
	default:
		dst = append(dst, "null"...)
	}
	if it.fail != 0 {
		f := &b.fails[it.fail-1]
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(f.status), 10)
		dst = append(dst, `,"error":`...)
		dst = appendErrorObject(dst, esType(f.typ), f.reason)
		return append(dst, '}')
	}
	dst = appendESWritten(dst, it.seq, esResultOf(it))
	return append(dst, '}')
}

// esResult is the result of a stored item: its status and result word.
type esResult struct {
	status int
	word   string
}

// esCreated is the result of a document stored by this request.
var esCreated = esResult{http.StatusCreated, "created"}

// appendESWritten appends the members of a written document after its
// _index and _id: version, result, shards, sequence number, status.
func appendESWritten(dst []byte, seq uint64, res esResult) []byte {
	dst = append(dst, `,"_version":1,"result":`...)
	dst = appendString(dst, res.word)
	dst = append(dst, `,"_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"_primary_term":1,"status":`...)
	return strconv.AppendInt(dst, int64(res.status), 10)
}

// completeES fills in what the action line and the route's settings give
// a decoded document: its index and client id, and a provider and action
// when it has none.
func (s *Server) completeES(ev *event.Event, it *esItem) {
	ev.Index = it.index
	if it.id != "" {
		ev.ClientID = it.id
	}
	s.cfg.ES.complete(ev, it.index)
}

// esResultOf is the result of a stored item: created, or a noop when an
// index action found the same document stored under its _id (a create
// that does is a conflict: see failCreateDuplicates).
func esResultOf(it *bulkItem) esResult {
	if it.result == eventlog.Duplicate {
		return esResult{http.StatusOK, "noop"}
	}
	return esCreated
}

// failCreateDuplicates fails the create items whose _id was already
// stored with the same document: Elasticsearch answers a create of an
// existing id 409 version_conflict_engine_exception, which shippers treat
// as done. (An index of it is a noop; a different document under the id
// is a conflict for both, failed by appendBulk.)
func (b *bulk) failCreateDuplicates() {
	for i := range b.items {
		it := &b.items[i]
		if it.fail == 0 && b.es[i].op == esCreate && it.result == eventlog.Duplicate {
			b.fails = append(b.fails, itemError{index: i, status: http.StatusConflict, typ: esVersionConflict,
				reason: esConflictReason(b.es[i].id, it.seq)})
			it.fail = len(b.fails)
		}
	}
}

// esConflictReason is Elasticsearch's reason for a create of an id
// already stored, with the sequence number it is stored under.
func esConflictReason(id string, seq uint64) string {
	return fmt.Sprintf("[%s]: version conflict, document already exists (current version [1], stored as _seq %d)", id, seq)
}
