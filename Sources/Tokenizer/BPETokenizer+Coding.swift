// Encoding text to token ids and decoding ids back to text.

extension BPETokenizer {
    /// Token ids of `text`: added tokens (leftmost, longest) first; the text between them is split by the
    /// pre-tokenizer and each piece byte-pair encoded. No BOS is added.
    public func encode(_ text: String) -> [Int] {
        var text = text
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 1)
        text.withUTF8 { buf in
            var split = SplitScratch()
            var work = MergeScratch()
            added.split(buf, text: { segment in
                preTokenizer.split(buf, segment, into: &split) { piece in
                    if ignoreMerges, piece.count > 1, let id = ids[ByteLevel.encode(bytes: buf[piece])] {
                        out.append(Int(id))
                    } else {
                        merges.tokenize(buf, piece, byteIds: byteIds, scratch: &work, into: &out)
                    }
                }
            }, token: { id in
                out.append(id)
            })
        }
        return out
    }

    /// The text of token ids: the bytes the tokens stand for, decoded as UTF-8 with each invalid
    /// sequence replaced by U+FFFD (Hugging Face's ByteLevel decoder). Ids out of range are skipped.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        decodeBytes.withUnsafeBufferPointer { all in
            for id in ids where id >= 0 && id < count {
                bytes.append(contentsOf: all[decodeStart[id]..<decodeStart[id + 1]])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// How many bytes of text token `id` stands for (0 for an id out of range).
    public func byteCount(_ id: Int) -> Int {
        id >= 0 && id < count ? decodeStart[id + 1] - decodeStart[id] : 0
    }
}
