package wal

// slabBytes is the size of the slabs that kept payloads (Options.KeepPayloads)
// are cut from. A restart that replays a long log fills hundreds of
// megabytes of new memory, and on Linux each 4 KiB page of it costs a page
// fault: the slab asks for huge pages instead (adviseHugePages). Small
// enough that the unused end of the last slab, kept alive by the payloads
// cut from it, stays small next to a head.
const slabBytes = 8 << 20

// payloadSlab hands out kept payloads from slabs: each payload is a slice
// of its own (full capacity, never handed out twice), and a slab lives as
// long as any payload cut from it.
type payloadSlab struct {
	free []byte
}

// take returns a new payload of n bytes.
func (s *payloadSlab) take(n int) []byte {
	if n > slabBytes/4 {
		return make([]byte, n)
	}
	if len(s.free) < n {
		s.free = make([]byte, slabBytes)
		adviseHugePages(s.free)
	}
	p := s.free[:n:n]
	s.free = s.free[n:]
	return p
}
