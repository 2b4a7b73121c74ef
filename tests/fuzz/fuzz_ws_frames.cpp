// libFuzzer target: the incremental WebSocket frame parser (sioserver.hpp layer 2e, sio::ws::FrameParser).
//
// Input layout:
//   byte 0        bits 0-2: max_message_size from kMaxSizes; bit 3: require_mask off (on when clear)
//   byte 1        n = byte & 15: how many chunk-size bytes follow
//   n bytes       chunk sizes (each byte b gives a chunk of b+1 bytes; b == 255 gives 4096), used in turn
//   the rest      the bytes a client sends, fed to the parser in those chunks
// After each feed, next() is called until NeedMore or Error (bounded).
//
// Invariants:
//  - Error is sticky and its close_code is 1002, 1007 or 1009.
//  - a Text message is valid UTF-8; a data message is at most max_message_size; a control frame at most 125 bytes,
//    and a Close payload is empty or a valid code plus UTF-8.
//  - buffered() never exceeds the bytes fed.
//  - chunking does not matter: a second parser fed everything at once yields the same messages and the same end.
//  - each message re-encoded as a (masked) frame parses back to the same message.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

using sio::ws::FrameParser;
using sio::ws::Message;
using sio::ws::Opcode;

const size_t kMaxSizes[8] = {0, 1, 2, 125, 126, 65535, 65536, 1000000};

struct Event {
    FrameParser::Result result;
    Opcode opcode;
    std::string data;
    uint16_t close_code;
};

std::string describe(const Event& e) {
    if (e.result == FrameParser::Result::Error) return "Error " + std::to_string(e.close_code);
    return "Message op=" + std::to_string(int(e.opcode)) + " '" + fuzz::show(e.data, 60) + "'";
}

void check_message(const Message& m, size_t max_message) {
    bool control = uint8_t(m.opcode) & 0x8;
    FUZZ_CHECK(m.opcode == Opcode::Text || m.opcode == Opcode::Binary || m.opcode == Opcode::Close ||
                   m.opcode == Opcode::Ping || m.opcode == Opcode::Pong,
               "ws-message-opcode", "opcode " + std::to_string(int(m.opcode)));
    if (control) {
        FUZZ_CHECK(m.data.size() <= 125, "ws-control-size", std::to_string(m.data.size()) + " bytes");
    } else {
        FUZZ_CHECK(m.data.size() <= max_message, "ws-message-size",
                   std::to_string(m.data.size()) + " bytes > max " + std::to_string(max_message));
    }
    if (m.opcode == Opcode::Text)
        FUZZ_CHECK(sio::is_valid_utf8(m.data), "ws-text-utf8", "invalid UTF-8 text message: " + fuzz::show(m.data));
    if (m.opcode == Opcode::Close) {
        FUZZ_CHECK(m.data.size() != 1, "ws-close-payload", "one-byte close payload");
        if (m.data.size() >= 2) {
            unsigned code = (uint8_t(m.data[0]) << 8) | uint8_t(m.data[1]);
            bool valid = (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) ||
                         (code >= 3000 && code <= 4999);
            FUZZ_CHECK(valid, "ws-close-code", "close code " + std::to_string(code) + " passed on");
            FUZZ_CHECK(sio::is_valid_utf8(std::string_view(m.data).substr(2)), "ws-close-utf8",
                       "close reason not UTF-8");
        }
    }
    // Re-encoded (as a client would, masked) it parses back to itself.
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::string frame = sio::ws::encode_frame(m.opcode, m.data, true, mask);
    FrameParser again(max_message, true);
    again.feed(frame.data(), frame.size());
    Message back;
    auto r = again.next(back);
    FUZZ_CHECK(r == FrameParser::Result::Message && back.opcode == m.opcode && back.data == m.data,
               "ws-reencode-roundtrip",
               "message op=" + std::to_string(int(m.opcode)) + " did not survive encode_frame");
}

// Calls next() until NeedMore or Error; appends what it got to `events`. Returns false once the parser failed.
bool drain(FrameParser& parser, std::vector<Event>& events, size_t max_message, size_t fed, bool& failed,
           size_t bound) {
    for (size_t i = 0; i < bound; ++i) {
        Message m;
        auto r = parser.next(m);
        FUZZ_CHECK(parser.buffered() <= fed, "ws-buffered-bound",
                   "buffered() = " + std::to_string(parser.buffered()) + " after feeding " + std::to_string(fed));
        if (r == FrameParser::Result::NeedMore) {
            FUZZ_CHECK(!failed, "ws-error-sticky", "NeedMore after an Error");
            return true;
        }
        if (r == FrameParser::Result::Error) {
            uint16_t code = parser.close_code();
            FUZZ_CHECK(code == 1002 || code == 1007 || code == 1009, "ws-error-close-code",
                       "close code " + std::to_string(code) + " (" + parser.error() + ")");
            FUZZ_CHECK(!parser.error().empty(), "ws-error-text", "an Error without a description");
            if (!failed) events.push_back({r, Opcode::Continuation, {}, code});
            failed = true;
            // Sticky: asking again gives the same Error.
            Message again;
            FUZZ_CHECK(parser.next(again) == FrameParser::Result::Error && parser.close_code() == code,
                       "ws-error-sticky", "a second next() after an Error did not fail the same way");
            return false;
        }
        FUZZ_CHECK(!failed, "ws-error-sticky", "a Message after an Error");
        check_message(m, max_message);
        events.push_back({r, m.opcode, std::move(m.data), 0});
    }
    // Each Message consumes at least 2 bytes, so `bound` (> input size) next() calls can never all be Messages.
    FUZZ_CHECK(false, "ws-next-unbounded", "next() returned Message more times than the input has bytes");
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const size_t max_message = kMaxSizes[data[0] & 7];
    const bool require_mask = !(data[0] & 8);
    size_t n_chunks = data[1] & 15;
    if (size < 2 + n_chunks) return 0;
    std::vector<size_t> chunks;
    for (size_t i = 0; i < n_chunks; ++i) chunks.push_back(data[2 + i] == 255 ? 4096 : size_t(data[2 + i]) + 1);
    if (chunks.empty()) chunks.push_back(size);
    const char* stream = reinterpret_cast<const char*>(data + 2 + n_chunks);
    const size_t length = size - 2 - n_chunks;
    const size_t bound = length + 2;

    // Fed in chunks.
    FrameParser parser(max_message, require_mask);
    std::vector<Event> chunked;
    bool failed = false;
    size_t fed = 0;
    for (size_t k = 0; fed < length; ++k) {
        size_t n = std::min(chunks[k % chunks.size()], length - fed);
        parser.feed(stream + fed, n);
        fed += n;
        if (!drain(parser, chunked, max_message, fed, failed, bound)) break;
    }
    if (length == 0) drain(parser, chunked, max_message, 0, failed, bound);

    // Fed all at once.
    FrameParser whole(max_message, require_mask);
    std::vector<Event> at_once;
    bool whole_failed = false;
    whole.feed(stream, length);
    drain(whole, at_once, max_message, length, whole_failed, bound);

    FUZZ_CHECK(chunked.size() == at_once.size(), "ws-chunking-changes-result",
               std::to_string(chunked.size()) + " events in chunks, " + std::to_string(at_once.size()) + " at once");
    for (size_t i = 0; i < chunked.size() && i < at_once.size(); ++i) {
        const Event& a = chunked[i];
        const Event& b = at_once[i];
        FUZZ_CHECK(a.result == b.result && a.opcode == b.opcode && a.data == b.data && a.close_code == b.close_code,
                   "ws-chunking-changes-result",
                   "event " + std::to_string(i) + ": " + describe(a) + " in chunks, " + describe(b) + " at once");
    }
    if (!failed)
        FUZZ_CHECK(parser.buffered() == whole.buffered(), "ws-chunking-changes-result",
                   "buffered() " + std::to_string(parser.buffered()) + " vs " + std::to_string(whole.buffered()));
    return 0;
}
