package privacy_test

import (
	"fmt"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/privacy"
)

// A store given a Pseudonymizer (eventlog.Options.Pseudonymizer) does this
// to every event and filter; the package can also be used alone. The
// pseudonym below is what `printf alice | openssl dgst -sha256 -hmac KEY
// -binary | base32` gives, lower-cased and without padding.
func Example() {
	p, err := privacy.New([]byte("an example key of at least 32 bytes"), nil)
	if err != nil {
		panic(err)
	}
	var ev event.Event
	ev.User.Name, ev.Source.IP = "alice", "0:0:0:0:0:0:0:1"
	stored := p.Event(&ev)
	fmt.Println(stored.User.Name)
	fmt.Println(stored.Source.IP == p.Value("::1")) // one address, one pseudonym

	f, _ := p.FilterText("user.name:alice and event.outcome:failure")
	fmt.Println(f)
	_, err = p.ParseFilter("user.name:ali*")
	fmt.Println(err)

	ok, _ := p.Reveal("user.name", "alice", stored.User.Name) // confirm a candidate
	fmt.Println(ok)
	// Output:
	// pseu:v1:fjfv2ikzugspkjw7gcepl5hwvvswmsj3avpyj2d7kyhtlprs3gsa
	// true
	// user.name:"pseu:v1:fjfv2ikzugspkjw7gcepl5hwvvswmsj3avpyj2d7kyhtlprs3gsa" and event.outcome:"failure"
	// filter: at 1: user.name is pseudonymised: a prefix or wildcard cannot match pseudonyms; give the whole value
	// true
}
