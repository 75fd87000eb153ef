package remotewrite

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// writeRequest is a Prometheus remote write 1.0 request (the protobuf
// message prometheus.WriteRequest of prompb/remote.proto and types.proto),
// encoded here because its Go type lives in the prometheus/prometheus
// module, far too large a dependency for four small messages. It
// implements the gogo-style Size and MarshalToSizedBuffer that the remote
// write client of client_golang/exp accepts for any message.
type writeRequest struct {
	series   []timeSeries
	metadata []metadata
	enc      []byte // the encoding, made once by Size
}

type timeSeries struct {
	labels  []label // sorted by name, __name__ included, no empty value
	samples []sample
}

type label struct{ name, value string }

type sample struct {
	value float64
	ms    int64
}

// metadata is a prometheus.MetricMetadata: a family's type and help.
type metadata struct {
	typ        metricType
	name, help string
}

// metricType is prometheus.MetricMetadata.MetricType.
type metricType uint64

const (
	typeUnknown   metricType = 0
	typeCounter   metricType = 1
	typeGauge     metricType = 2
	typeSummary   metricType = 3
	typeHistogram metricType = 4
)

// Size is the length of the encoding.
func (w *writeRequest) Size() int {
	if w.enc == nil {
		w.enc = w.marshal()
	}
	return len(w.enc)
}

// MarshalToSizedBuffer writes the encoding into b, of length Size.
func (w *writeRequest) MarshalToSizedBuffer(b []byte) (int, error) {
	return copy(b, w.enc[:w.Size()]), nil
}

func (w *writeRequest) marshal() []byte {
	out := []byte{}
	var buf []byte
	for _, ts := range w.series {
		buf = buf[:0]
		for _, l := range ts.labels {
			var lb []byte
			lb = appendString(lb, 1, l.name)
			lb = appendString(lb, 2, l.value)
			buf = appendMessage(buf, 1, lb)
		}
		for _, s := range ts.samples {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(s.value))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(s.ms))
			buf = appendMessage(buf, 2, sb)
		}
		out = appendMessage(out, 1, buf)
	}
	for _, m := range w.metadata {
		var mb []byte
		mb = protowire.AppendTag(mb, 1, protowire.VarintType)
		mb = protowire.AppendVarint(mb, uint64(m.typ))
		mb = appendString(mb, 2, m.name)
		mb = appendString(mb, 4, m.help)
		out = appendMessage(out, 3, mb)
	}
	return out
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, field protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}
