package segment

import "github.com/eventlogdb/eventlog/internal/uuidtext"

// String vectors whose values are all canonical lowercase UUIDs
// (8-4-4-4-12 hex digits) are stored as 16 bytes per value instead of 36.

func allUUIDs(vals []string) bool {
	for _, v := range vals {
		if !uuidtext.IsCanonical(v) {
			return false
		}
	}
	return len(vals) > 0
}
