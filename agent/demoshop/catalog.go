package demoshop

import (
	"fmt"
	"strings"
)

// product is one item of the fixed catalogue. Prices are in cents so that a
// cart total never shows a rounding error.
type product struct {
	ID          string
	Name        string
	Cents       int
	Description string
}

// Price formats the price as the API and the pages show it, without a
// currency sign so that JSON consumers need not strip one.
func (p product) Price() string { return formatCents(p.Cents) }

// URL is the product page, the target of every link to the product.
func (p product) URL() string { return "/product/" + p.ID }

// Image is the hero image, the page's LCP element.
func (p product) Image() string { return "/img/" + p.ID + ".png" }

func formatCents(c int) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// catalog is fixed so that flows, tests and benchmarks can name products by
// id. Descriptions stay short: a long paragraph could outgrow the hero image
// on a narrow screen and steal the LCP.
var catalog = []product{
	{"lamp-1", "Brass Desk Lamp", 4900, "A weighted brass base and an adjustable arm for late reading."},
	{"lamp-2", "Paper Floor Lamp", 8900, "Soft light through rice paper, on a slim oak stand."},
	{"lamp-3", "Glass Pendant Lamp", 12900, "Hand-blown smoked glass on a braided cord."},
	{"chair-1", "Oak Dining Chair", 11900, "Solid oak with a woven seat; stacks two high."},
	{"chair-2", "Velvet Armchair", 34900, "Deep seat, green velvet, walnut legs."},
	{"rug-1", "Wool Area Rug", 19900, "Flat-woven wool, 160 by 230 cm."},
	{"table-1", "Walnut Side Table", 15900, "A round top on three turned legs."},
	{"mirror-1", "Round Wall Mirror", 7900, "A 60 cm mirror in a thin brass frame."},
}

// featured are the products on the home page, one of each kind so that a
// flow can reach any kind of page from there.
var featured = []string{"lamp-1", "chair-2", "rug-1", "table-1"}

var productsByID = func() map[string]product {
	m := make(map[string]product, len(catalog))
	for _, p := range catalog {
		m[p.ID] = p
	}
	return m
}()

func lookup(id string) (product, bool) {
	p, ok := productsByID[id]
	return p, ok
}

// search matches case-insensitively anywhere in the name, like the search
// box of most shops; an empty query lists everything.
func search(q string) []product {
	q = strings.ToLower(strings.TrimSpace(q))
	found := []product{}
	for _, p := range catalog {
		if strings.Contains(strings.ToLower(p.Name), q) {
			found = append(found, p)
		}
	}
	return found
}
