package deflate

import (
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
)

// AppendGzip appends src compressed as one gzip member (RFC 1952) to dst.
func (e *Encoder) AppendGzip(dst, src []byte) []byte {
	// No name, no mtime, unknown OS: the header klauspost and compress/gzip
	// write by default, so payloads stay byte-for-byte reproducible.
	dst = append(dst, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)
	dst = e.Encode(dst, src)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(src))
	return binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
}

// AppendZlib appends src compressed in the zlib format (RFC 1950), which is
// HTTP's "deflate" content coding, to dst.
func (e *Encoder) AppendZlib(dst, src []byte) []byte {
	dst = append(dst, 0x78, 0x9c) // 32 KB window, default compression, no dictionary
	dst = e.Encode(dst, src)
	return binary.BigEndian.AppendUint32(dst, adler32.Checksum(src))
}
