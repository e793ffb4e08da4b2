package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress draws a one-line progress bar, redrawn in place with a carriage return.
// A nil writer draws nothing.
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	total, done int
	label       string
}

func newProgress(w io.Writer, total int) *progress { return &progress{w: w, total: max(total, 1)} }

// set names the step under way.
func (p *progress) set(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label = label
	p.draw()
}

// step counts a finished step.
func (p *progress) step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = min(p.done+1, p.total)
	p.draw()
}

const barWidth = 30

func (p *progress) draw() {
	if p.w == nil {
		return
	}
	filled := barWidth * p.done / p.total
	label := p.label
	if len(label) > 48 {
		label = label[:47] + "…"
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %-48s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), 100*p.done/p.total, label)
}

// finish clears the bar's line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", barWidth+56))
	}
}
