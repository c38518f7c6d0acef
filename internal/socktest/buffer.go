package socktest

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer that one side writes while another reads:
// a child's output, or a log written from many goroutines, that the test
// reads while they run.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
