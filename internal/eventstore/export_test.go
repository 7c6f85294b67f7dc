package eventstore

import "time"

// SetLinger sets how long l's writes wait for more steps, for tests.
func (l *TraceLog) SetLinger(d time.Duration) { l.linger = d }
