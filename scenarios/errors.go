package scenarios

import (
	"sort"
	"strings"
)

// Error is one problem in a flow file, at a place, in the user's words.
type Error struct {
	Pos  Position
	Flow string // the flow's name when it is known
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	if e.Flow != "" {
		b.WriteString("flow \"" + e.Flow + "\": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList holds every problem found in one pass, in file order, so that a
// user fixes them all at once instead of one per run.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return l
}

// suggest returns the candidates closest to word, for "did you mean".
func suggest(word string, candidates []string, max int) []string {
	type scored struct {
		s string
		d int
	}
	var best []scored
	lw := strings.ToLower(word)
	for _, c := range candidates {
		d := levenshtein(lw, strings.ToLower(c))
		limit := max2(2, len([]rune(c))/3)
		if d <= limit || (len(lw) >= 3 && strings.Contains(strings.ToLower(c), lw)) {
			best = append(best, scored{c, d})
		}
	}
	sort.SliceStable(best, func(i, j int) bool {
		if best[i].d != best[j].d {
			return best[i].d < best[j].d
		}
		return best[i].s < best[j].s
	})
	var out []string
	for i := 0; i < len(best) && i < max; i++ {
		out = append(out, best[i].s)
	}
	return out
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Long inputs are never typos of our short key names; bound the work.
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// didYouMean renders a suggestion clause, or "" when nothing is close.
func didYouMean(word string, candidates []string) string {
	s := suggest(word, candidates, 1)
	if len(s) == 0 {
		return ""
	}
	return " (did you mean \"" + s[0] + "\"?)"
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "\"" + s + "\""
	}
	return strings.Join(q, ", ")
}
