package scenarios

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// totpFlow loads a flow whose one step fills ${totp:seed} from the given
// seed value, so the tests go through the load checks and Flow.Bind.
func totpFlow(t *testing.T, seed string) *Flow {
	t.Helper()
	src := "name: otp\nvars: {seed: '" + seed + "'}\nsecrets: [seed]\nsteps:\n  - fill: {selector: '#code', value: 'c=${totp:seed}'}\n"
	flows, err := Parse("otp.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return flows[0]
}

// fixedClock is a clock at t that moves only when slept on.
type fixedClock struct {
	t     time.Time
	slept []time.Duration
}

func (c *fixedClock) vars() *RunVars {
	v := NewRunVars(nil)
	v.now = func() time.Time { return c.t }
	v.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.slept = append(c.slept, d)
		c.t = c.t.Add(d)
		return nil
	}
	return v
}

func bindCode(t *testing.T, f *Flow, vars *RunVars) string {
	t.Helper()
	a, err := f.Bind(f.Steps[0], vars)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(a.(Fill).Value, "c=")
}

// TestTOTPRFC6238Vectors checks the codes of RFC 6238's appendix B (8
// digits, SHA-1/256/512 with their seeds) through the binding path.
func TestTOTPRFC6238Vectors(t *testing.T) {
	b32 := func(s string) string { return strings.TrimRight(base32.StdEncoding.EncodeToString([]byte(s)), "=") }
	seeds := map[string]string{
		"SHA1":   b32("12345678901234567890"),
		"SHA256": b32("12345678901234567890123456789012"),
		"SHA512": b32("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	cases := []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, c := range cases {
		uri := "otpauth://totp/rfc:test?secret=" + seeds[c.alg] + "&algorithm=" + c.alg + "&digits=8&period=30"
		f := totpFlow(t, uri).ForRun()
		// 59 and 1111111109 are 1 s before their period's end, where a
		// step waits for the next code (TestTOTPDefaultsAndWait): take
		// them 5 s earlier in the same period.
		clk := &fixedClock{t: time.Unix(c.unix, 0)}
		if 30-c.unix%30 < 3 {
			clk.t = time.Unix(c.unix-5, 0)
		}
		got := bindCode(t, f, clk.vars())
		if got != c.want {
			t.Errorf("%s at %d: code %s, want %s", c.alg, c.unix, got, c.want)
		}
		if masked := f.Mask("code " + got); masked != "code ***" {
			t.Errorf("%s at %d: the generated code is not masked: %q", c.alg, c.unix, masked)
		}
	}
}

// TestTOTPDefaultsAndWait: a bare base32 seed gives 6-digit SHA-1 codes
// every 30 s; a code with less than 3 s left waits for the next one, and
// the wait ends with the step's context.
func TestTOTPDefaultsAndWait(t *testing.T) {
	seed := strings.TrimRight(base32.StdEncoding.EncodeToString([]byte("12345678901234567890")), "=")
	f := totpFlow(t, strings.ToLower(seed)) // lower case is accepted
	tests := []struct {
		name  string
		at    time.Time
		want  string // RFC 6238's SHA-1 code, last 6 digits
		slept []time.Duration
	}{
		{"4s left: no wait", time.Unix(1111111106, 0), "081804", nil},
		{"3s left: no wait", time.Unix(1111111107, 0), "081804", nil},
		{"2.5s left: waits for the next code", time.Unix(1111111107, 5e8), "050471", []time.Duration{2500 * time.Millisecond}},
		{"at the start of a period", time.Unix(1111111110, 0), "050471", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fixedClock{t: tt.at}
			if got := bindCode(t, f, clk.vars()); got != tt.want {
				t.Errorf("code %s, want %s", got, tt.want)
			}
			if len(clk.slept) != len(tt.slept) || (len(tt.slept) > 0 && clk.slept[0] != tt.slept[0]) {
				t.Errorf("slept %v, want %v", clk.slept, tt.slept)
			}
		})
	}
	t.Run("the step's context ends the wait", func(t *testing.T) {
		clk := &fixedClock{t: time.Unix(1111111109, 0)}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.BindContext(ctx, f.Steps[0], clk.vars())
		if se := AsStepError(err); se == nil || se.Kind != KindTimeout {
			t.Fatalf("err = %v, want a timeout step error", err)
		}
	})
	t.Run("real clock", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := f.BindContext(ctx, f.Steps[0], NewRunVars(nil))
		if err != nil {
			t.Fatal(err)
		}
		// The bound code has at least 3 s left, so it is still current.
		k, _ := parseTOTPSeed(seed)
		want, _, _ := k.code(time.Now())
		if got := strings.TrimPrefix(a.(Fill).Value, "c="); got != want {
			t.Errorf("code %s, want %s", got, want)
		}
	})
}

// TestTOTPSeedMasked: the seed is masked, and so is a URI's base32 secret on
// its own.
func TestTOTPSeedMasked(t *testing.T) {
	uri := "otpauth://TOTP/acme:ann?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=acme"
	f := totpFlow(t, uri)
	for _, s := range []string{uri, "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"} {
		if got := f.Mask("x " + s); got != "x ***" {
			t.Errorf("Mask(%q) = %q", s, got)
		}
	}
}
