package event

// Default limits (see Limits).
const (
	DefaultMaxDocumentBytes = 1 << 20
	DefaultMaxStringBytes   = 64 << 10
	DefaultMaxRefs          = 100
	DefaultMaxTags          = 100
	DefaultMaxLabels        = 100
	DefaultMaxExtraDepth    = 20
	DefaultMaxExtraKeys     = 1000
	// MaxExtraDepthCap bounds MaxExtraDepth: the nesting any reader of a
	// stored tree accepts.
	MaxExtraDepthCap = 64
)

// Limits bound what one event may hold. Zero fields take the defaults;
// negative fields are treated as zero (the default).
type Limits struct {
	// MaxDocumentBytes bounds the size of the JSON document given to Decode
	// (and of the canonical JSON of an event checked by Validate). Default 1 MiB.
	MaxDocumentBytes int
	// MaxStringBytes bounds any single string value: message, label keys and
	// values, saved-object ref fields, list items. Default 64 KiB.
	MaxStringBytes int
	// MaxRefs bounds the number of kibana.saved_objects. Default 100.
	MaxRefs int
	// MaxTags bounds the number of tags and of items in any string list.
	// Default 100.
	MaxTags int
	// MaxLabels bounds the number of labels. Default 100.
	MaxLabels int
	// MaxExtraDepth bounds how deep a kept unknown value lies below the
	// document (DecodeOptions.KeepUnknown): a top-level unknown key's value
	// is at depth 1, host.architecture's at 2. Default 20; values above
	// MaxExtraDepthCap are taken as the cap.
	MaxExtraDepth int
	// MaxExtraKeys bounds the number of kept unknown members and array
	// elements of one document, at every depth. Default 1000.
	MaxExtraKeys int
}

// DefaultLimits returns the limits the zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{
		MaxDocumentBytes: DefaultMaxDocumentBytes,
		MaxStringBytes:   DefaultMaxStringBytes,
		MaxRefs:          DefaultMaxRefs,
		MaxTags:          DefaultMaxTags,
		MaxLabels:        DefaultMaxLabels,
		MaxExtraDepth:    DefaultMaxExtraDepth,
		MaxExtraKeys:     DefaultMaxExtraKeys,
	}
}

// withDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) withDefaults() Limits {
	def := DefaultLimits()
	orDefault := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxDocumentBytes: orDefault(l.MaxDocumentBytes, def.MaxDocumentBytes),
		MaxStringBytes:   orDefault(l.MaxStringBytes, def.MaxStringBytes),
		MaxRefs:          orDefault(l.MaxRefs, def.MaxRefs),
		MaxTags:          orDefault(l.MaxTags, def.MaxTags),
		MaxLabels:        orDefault(l.MaxLabels, def.MaxLabels),
		MaxExtraDepth:    min(orDefault(l.MaxExtraDepth, def.MaxExtraDepth), MaxExtraDepthCap),
		MaxExtraKeys:     orDefault(l.MaxExtraKeys, def.MaxExtraKeys),
	}
}

// Within reports whether every bound of l is at least as strict as o's
// (zero fields taking their defaults on both sides), MaxDocumentBytes
// aside: an event Decode accepted under l then passes Validate under o, so
// a store that validated it with o need not check it again.
func (l Limits) Within(o Limits) bool {
	l, o = l.withDefaults(), o.withDefaults()
	return l.MaxStringBytes <= o.MaxStringBytes && l.MaxRefs <= o.MaxRefs && l.MaxTags <= o.MaxTags &&
		l.MaxLabels <= o.MaxLabels && l.MaxExtraDepth <= o.MaxExtraDepth && l.MaxExtraKeys <= o.MaxExtraKeys
}
