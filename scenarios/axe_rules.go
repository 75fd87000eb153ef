package scenarios

// AxeVersion is the axe-core that `make` installs and the image bundles;
// the Makefile, the Dockerfile and agent/audit are checked against it.
const AxeVersion = "4.10.3"

// knownAxeRules are the rule ids of axe-core 4.10.3, from its axe.min.js. They
// bound the a11y-<id> rule names: a flow is checked against the installed
// axe-core's own list when it is found, and against this one when the
// loader was not told (LoadOptions.Axe nil); metric labels only ever take
// these ids, whatever a result holds.
var knownAxeRules = []string{
	"accesskeys", "area-alt", "aria-allowed-attr", "aria-allowed-role",
	"aria-braille-equivalent", "aria-command-name", "aria-conditional-attr",
	"aria-deprecated-role", "aria-dialog-name", "aria-hidden-body", "aria-hidden-focus",
	"aria-input-field-name", "aria-meter-name", "aria-progressbar-name",
	"aria-prohibited-attr", "aria-required-attr", "aria-required-children",
	"aria-required-parent", "aria-roledescription", "aria-roles", "aria-text",
	"aria-toggle-field-name", "aria-tooltip-name", "aria-treeitem-name",
	"aria-valid-attr-value", "aria-valid-attr", "audio-caption", "autocomplete-valid",
	"avoid-inline-spacing", "blink", "button-name", "bypass", "color-contrast-enhanced",
	"color-contrast", "css-orientation-lock", "definition-list", "dlitem", "document-title",
	"duplicate-id-active", "duplicate-id-aria", "duplicate-id", "empty-heading",
	"empty-table-header", "focus-order-semantics", "form-field-multiple-labels",
	"frame-focusable-content", "frame-tested", "frame-title-unique", "frame-title",
	"heading-order", "hidden-content", "html-has-lang", "html-lang-valid",
	"html-xml-lang-mismatch", "identical-links-same-purpose", "image-alt",
	"image-redundant-alt", "input-button-name", "input-image-alt",
	"label-content-name-mismatch", "label-title-only", "label",
	"landmark-banner-is-top-level", "landmark-complementary-is-top-level",
	"landmark-contentinfo-is-top-level", "landmark-main-is-top-level",
	"landmark-no-duplicate-banner", "landmark-no-duplicate-contentinfo",
	"landmark-no-duplicate-main", "landmark-one-main", "landmark-unique",
	"link-in-text-block", "link-name", "list", "listitem", "marquee",
	"meta-refresh-no-exceptions", "meta-refresh", "meta-viewport-large", "meta-viewport",
	"nested-interactive", "no-autoplay-audio", "object-alt", "p-as-heading",
	"page-has-heading-one", "presentation-role-conflict", "region", "role-img-alt",
	"scope-attr-valid", "scrollable-region-focusable", "select-name",
	"server-side-image-map", "skip-link", "summary-name", "svg-img-alt", "tabindex",
	"table-duplicate-name", "table-fake-caption", "target-size", "td-has-header",
	"td-headers-attr", "th-has-data-cells", "valid-lang", "video-caption",
}
