package segment

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// Wire constants. Never change one without bumping Version and recording
// the change in FORMAT.md.
const (
	// Version is the format version this package writes and the newest it
	// reads. Versions 2 and 3 differ from 1 only in the postings they hold
	// (index.LayoutV2, LayoutV3 instead of LayoutV1) and version 3 in the
	// columns it may hold: the engine fields _id and _index (column ids 92
	// and 93) and the kept unknown fields (event.KindExtra, column id 94);
	// blocks, indexes and footer are laid out alike. Version 4's postings
	// section is index.LayoutV4's: the client ids in pages behind a filter
	// rather than in the dictionary; its string values refer to the ref
	// ids they repeat and its @timestamp column's differences are scaled
	// (VersionRefIDs). Version 5's refs column numbers each ref's key,
	// found in the postings dictionary, instead of holding its id and type
	// (VersionRefKeys). Version 6's postings section is index.LayoutV6's:
	// LayoutV4's, with the ref keys of the dictionary packed (a UUID id
	// in 16 bytes; VersionPackedKeys). Version 7's event.start column
	// stores each date relative to the row's @timestamp less its
	// event.duration rather than to its @timestamp (VersionDerivedStart).
	// Version 8's postings section is index.LayoutV8's: LayoutV6's, with
	// each list of more than InlineMax rows a roaring bitmap, a delta list
	// or a bitset, whichever is smallest (VersionListKinds). Version 9's
	// message column also refers to the row's other string values it
	// repeats (VersionMessageRefs).
	Version = 9

	// VersionMessageRefs is the first version whose message column stores
	// each whole value of another String or IP field of the row that a
	// message repeats as a reference to that field (message_refs.go).
	VersionMessageRefs = 9

	// VersionListKinds is the first version whose postings lists take
	// one of three kinds (index.LayoutV8).
	VersionListKinds = 8

	// VersionDerivedStart is the first version whose event.start column
	// is stored relative to the row's @timestamp less its event.duration
	// (0 when the row has none): Kibana writes event.start as event.end
	// less event.duration, and event.end at about @timestamp, so the
	// stored differences are nearly all 0 where version 6 stored the
	// duration a second time.
	VersionDerivedStart = 7

	// VersionPackedKeys is the first version whose postings dictionary
	// is packed (index.LayoutV6).
	VersionPackedKeys = 6

	// VersionExtra is the first version whose blocks may hold the column
	// of kept unknown fields.
	VersionExtra = 3

	// VersionRefIDs is the first version whose string columns store the
	// ids of the row's refs that a value holds as references to them
	// (refids.go).
	VersionRefIDs = 4

	// colRefs is the column id of kibana.saved_objects.
	colRefs = 79

	// colMessage is the column id of message.
	colMessage = 2

	// colDuration and colStart are the column ids of event.duration and
	// event.start.
	colDuration = 16
	colStart    = 32

	headerMagic = "ELSEG\x00\x00\x00" // first 8 bytes; byte 5 holds the version
	footerMagic = "ELSEGEND"
	headerLen   = 8
	footerLen   = 120

	// Column ids: 0 is the sequence column, 1 (the @timestamp field id) the
	// timestamp column; other ids are event.Field.ID.
	colSeq = 0
	colTS  = 1

	// Column codecs.
	codecRaw  = 0
	codecZstd = 1

	// maxColumnRaw bounds a column's decoded size.
	maxColumnRaw = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// section locates one section of the file.
type section struct {
	Off, Len uint64
	CRC      uint32
}

// footer is the fixed-size end of the file (see FORMAT.md, "Segment files").
type footer struct {
	BlockIndex, Postings, SeqIndex section
	Events                         uint64
	Blocks                         uint32
	MinTS, MaxTS                   int64
	MinSeq, MaxSeq                 uint64
	Version                        uint32
}

func appendHeader(dst []byte, version uint8) []byte {
	dst = append(dst, headerMagic...)
	dst[len(dst)-3] = version
	return dst
}

func appendSection(dst []byte, s section) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, s.Off)
	dst = binary.LittleEndian.AppendUint64(dst, s.Len)
	return binary.LittleEndian.AppendUint32(dst, s.CRC)
}

func (f *footer) appendTo(dst []byte) []byte {
	start := len(dst)
	for _, s := range []section{f.BlockIndex, f.Postings, f.SeqIndex} {
		dst = appendSection(dst, s)
	}
	dst = binary.LittleEndian.AppendUint64(dst, f.Events)
	dst = binary.LittleEndian.AppendUint32(dst, f.Blocks)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.MinTS))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.MaxTS))
	dst = binary.LittleEndian.AppendUint64(dst, f.MinSeq)
	dst = binary.LittleEndian.AppendUint64(dst, f.MaxSeq)
	dst = binary.LittleEndian.AppendUint32(dst, f.Version)
	dst = binary.LittleEndian.AppendUint32(dst, crc(dst[start:]))
	return append(dst, footerMagic...)
}

// footer field offsets that every version keeps: the last 16 bytes.
const (
	footerVersionAt = footerLen - 16
	footerCRCAt     = footerLen - 12
)

// decodeFooter parses b (footerLen bytes); the magic, version and CRC were
// checked by the caller.
func decodeFooter(b []byte) footer {
	d := decbuf.New(b, errInvalid)
	var f footer
	for _, s := range []*section{&f.BlockIndex, &f.Postings, &f.SeqIndex} {
		s.Off, s.Len, s.CRC = d.U64(), d.U64(), d.U32()
	}
	f.Events = d.U64()
	f.Blocks = d.U32()
	f.MinTS, f.MaxTS = int64(d.U64()), int64(d.U64())
	f.MinSeq, f.MaxSeq = d.U64(), d.U64()
	f.Version = d.U32()
	return f
}
