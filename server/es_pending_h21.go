package server

import "github.com/eventlogdb/eventlog/event"

func setESMeta(ev *event.Event, it *esItem) {}
