package segment

import (
	"fmt"

	"github.com/eventlogdb/eventlog/index"
)

// noKeys records, for a version 5 file, that its ref key table cannot be
// trusted (the footer or block index failed): every block holding refs is
// then lost, since its refs are numbers into that table.
func (s *salvager) noKeys(why error) {
	if s.version >= VersionRefKeys {
		s.keys = unresolvedRefKeys(fmt.Errorf("block index unreadable: %w", why))
	}
}

// keysAfterDamage recovers the key table of a version 5 file whose footer
// checked but whose block index did not: the table's own trailer (length
// and CRC) still finds and checks it at the end of the section.
func (s *salvager) keysAfterDamage(raw []byte, ft *footer) {
	if s.version < VersionRefKeys {
		return
	}
	_, ranks, err := splitRefKeyTable(raw)
	if err != nil {
		s.noKeys(err)
		return
	}
	s.keys = s.refKeys(ranks, ft)
}

// refKeys resolves the key table of a version 5 file whose footer and
// block index checked, through its postings when their CRC holds and they
// parse; otherwise the refs are unresolved and their blocks lost.
func (s *salvager) refKeys(ranks []uint32, ft *footer) *refKeys {
	p, size := ft.Postings, uint64(len(s.data))
	if p.Off > size || p.Len > size-p.Off {
		return unresolvedRefKeys(s.corrupt(SectionPostings, -1, fmt.Errorf("postings out of bounds")))
	}
	sec := s.data[p.Off : p.Off+p.Len]
	if got := crc(sec); got != p.CRC {
		return unresolvedRefKeys(s.corrupt(SectionPostings, -1, fmt.Errorf("crc %08x, want %08x", got, p.CRC)))
	}
	post, err := index.OpenLayout(sec, s.dec, index.Layout(s.version))
	if err == nil {
		var keys *refKeys
		if keys, err = newRefKeys(ranks, post); err == nil {
			return keys
		}
	}
	return unresolvedRefKeys(s.corrupt(SectionPostings, -1, err))
}
