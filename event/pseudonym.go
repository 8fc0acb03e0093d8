package event

// PseudonymPrefix starts every pseudonym: a value the store keeps in place
// of one that identifies a person (package privacy makes them). Wire
// constant: a new scheme gets a new version, never this prefix.
const PseudonymPrefix = "pseu:v1:"

// PseudonymLen is the length of a pseudonym: the prefix and a 256-bit
// HMAC in unpadded lower-case base32 (52 characters).
const PseudonymLen = len(PseudonymPrefix) + 52

// IsPseudonym reports whether s has the form of a pseudonym. Such a value
// is valid in an IP field too: a pseudonymised address is a keyword, and
// events exported from a pseudonymising store can be ingested again.
func IsPseudonym(s string) bool {
	if len(s) != PseudonymLen || s[:len(PseudonymPrefix)] != PseudonymPrefix {
		return false
	}
	for i := len(PseudonymPrefix); i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
