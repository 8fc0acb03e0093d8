package event

import "unsafe"

// Decoder decodes JSON event documents one after another, as DecodeWith
// does, for a caller that encodes each batch of events and drops it before
// decoding the next (the server's _bulk): the values behind the events'
// pointers and lists (numbers, durations, list strings, saved-object refs)
// come from slabs the Decoder keeps, so that once they have grown a
// document costs no allocation, and the event is decoded into the
// caller's Event rather than returned by value.
//
// It also remembers the order of the last documents' keys, and compares
// the input with the key it expects before reading a key and looking it
// up (guess.go): that decides nothing, and spares most of the lookups.
//
// The values of every event decoded since the last Reuse stay valid and
// distinct; Reuse lets the next documents overwrite them. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	opts DecodeOptions
	d    decoder
}

// NewDecoder returns a Decoder that decodes with opts.
func NewDecoder(opts DecodeOptions) *Decoder {
	x := &Decoder{opts: opts}
	x.d.slabs.grow = true
	x.d.guesses = newGuesses()
	return x
}

// Options returns the options the Decoder decodes with.
func (x *Decoder) Options() DecodeOptions { return x.opts }

// Decode decodes data into *dst, overwriting all of it, as DecodeWith
// would return it (with the same error; *dst is then the zero Event).
// The event's values are the Decoder's until Reuse, and with
// DecodeOptions.Shared its strings share data.
func (x *Decoder) Decode(dst *Event, data []byte) error {
	ev, err := x.Next(data)
	if err != nil {
		*dst = Event{}
	} else {
		*dst = *ev
	}
	x.forget()
	return err
}

// Next decodes data as Decode does, into an Event of the Decoder's own,
// which it returns: valid until the next call of Next, Decode or Drop,
// which overwrite it. Decoding in place spares Decode's copy of the
// Event, a kilobyte and a half of pointers that the garbage collector's
// write barrier sees when it runs. On error the Event is not returned.
func (x *Decoder) Next(data []byte) (*Event, error) {
	lim := x.opts.Limits.withDefaults()
	if len(data) > lim.MaxDocumentBytes {
		x.forget()
		return nil, limitErr("", -1, "document of %d bytes is over the limit of %d bytes", len(data), lim.MaxDocumentBytes)
	}
	text := unsafe.String(unsafe.SliceData(data), len(data))
	if !x.opts.Shared {
		text = string(data)
	}
	d := &x.d
	d.reset(data, text, lim, x.opts.KeepUnknown)
	err := d.document()
	if err == nil && len(d.kept) > 0 {
		d.ev.Extra = d.extra()
	}
	if err != nil {
		return nil, err
	}
	return &d.ev, nil
}

// forget drops what the decoder holds of the last document (its Event,
// the text): the caller has what it keeps, and the Decoder may wait in a
// pool.
func (x *Decoder) forget() {
	x.d.reset(nil, "", Limits{}, false)
}

// reset readies d to decode data (text) as a new decoder would, keeping
// the memory it reuses (slabs, scratch buffer, guesses). It clears the
// Event in place: assigning d a new decoder zeroed one on the stack and
// copied its kilobyte and a half, through the write barrier when the
// garbage collector runs. TestDecoderResetAsNew checks that it leaves
// nothing of the last document.
func (d *decoder) reset(data []byte, text string, lim Limits, keep bool) {
	d.scanner = scanner{data: data, text: text, buf: d.buf[:0]}
	d.lim, d.keep = lim, keep
	d.ev = Event{}
	d.seen, d.sawSeq = [4]uint64{}, false
	d.kept, d.keptKeys, d.kp, d.objKeys = nil, 0, nil, nil
}

// Reuse lets the next documents decoded overwrite the values of the
// events decoded so far, which must no longer be in use.
func (x *Decoder) Reuse() { x.d.slabs.reuse() }

// Drop is Reuse that also drops the Decoder's references to the strings
// of the events decoded so far (with DecodeOptions.Shared, into the
// documents' memory), for a Decoder kept idle between requests.
func (x *Decoder) Drop() {
	x.forget()
	sl := &x.d.slabs
	clear(sl.strs[:cap(sl.strs)])
	clear(sl.refSlab[:cap(sl.refSlab)])
	sl.reuse()
}
