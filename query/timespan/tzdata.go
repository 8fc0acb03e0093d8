package timespan

// The embedded database costs about 450 KB of binary; without it a server
// in a distroless or scratch image (or on Windows) would reject every
// date_histogram time_zone other than UTC and fixed offsets.
import _ "time/tzdata"
