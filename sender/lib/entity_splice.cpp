// entity_splice.cpp: write_crlf with the large verbatim leaves spliced in
// from the parse buffer (see the header).
#include "entity_splice.hpp"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "mime.hpp"

namespace sealpost {
namespace {

constexpr gint64 kMinSlot = 1024;

// A leaf's content, taken from the parse buffer: when GMime will write it
// verbatim (not re-encoded) and it lies in a memory stream. Content ending
// in a CR is left to GMime (its newline filter and ours would meet there).
std::optional<std::string_view> verbatim_content(GMimePart* part) {
    GMimeDataWrapper* w = g_mime_part_get_content(part);
    if (!w || g_mime_data_wrapper_get_encoding(w) != g_mime_part_get_content_encoding(part)) return std::nullopt;
    GMimeStream* s = g_mime_data_wrapper_get_stream(w);
    if (!s || !GMIME_IS_STREAM_MEM(s)) return std::nullopt;
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    if (!arr) return std::nullopt;
    const gint64 len = static_cast<gint64>(arr->len);
    const gint64 start = s->bound_start, end = s->bound_end < 0 ? len : s->bound_end;
    if (start < 0 || end > len || end - start < kMinSlot) return std::nullopt;
    std::string_view bytes(reinterpret_cast<const char*>(arr->data) + start, static_cast<std::size_t>(end - start));
    if (bytes.back() == '\r') return std::nullopt;
    return bytes;
}

std::vector<GMimePart*> leaves(GMimeObject* root) {
    std::vector<GMimePart*> out;
    std::vector<GMimeObject*> todo{root};
    while (!todo.empty()) {
        GMimeObject* obj = todo.back();
        todo.pop_back();
        if (GMIME_IS_MULTIPART(obj)) {
            auto* mp = GMIME_MULTIPART(obj);
            for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0; --i) todo.push_back(g_mime_multipart_get_part(mp, i));
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            if (inner && g_mime_message_get_mime_part(inner)) todo.push_back(g_mime_message_get_mime_part(inner));
        } else if (GMIME_IS_PART(obj)) {
            out.push_back(GMIME_PART(obj));
        }
    }
    return out;
}

// A leaf whose content stands aside during the write: a placeholder is in
// its place, the original wrapper is put back by the destructor.
class Slot {
public:
    Slot(GMimePart* part, std::string_view bytes, std::string token)
        : part_(part), original_(g_mime_part_get_content(part)), bytes_(bytes), token_(std::move(token)) {
        g_object_ref(original_);
        // Same encoding: GMime writes the placeholder as it would the content.
        std::string placeholder = token_ + (bytes_.back() == '\n' ? "\n" : "");
        GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new_with_buffer(placeholder.data(), placeholder.size()));
        GObjectPtr<GMimeDataWrapper> w(
            g_mime_data_wrapper_new_with_stream(mem.get(), g_mime_data_wrapper_get_encoding(original_)));
        g_mime_part_set_content(part_, w.get());
    }
    ~Slot() {
        g_mime_part_set_content(part_, original_);
        g_object_unref(original_);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    // What the placeholder became in write_crlf's output.
    std::string written() const { return token_ + (bytes_.back() == '\n' ? "\r\n" : ""); }
    std::string_view bytes() const { return bytes_; }

private:
    GMimePart* part_;
    GMimeDataWrapper* original_;
    std::string_view bytes_;
    std::string token_;
};

}  // namespace

std::string write_entity_crlf(GMimeObject* root, std::size_t size_hint) {
    std::vector<std::unique_ptr<Slot>> slots;
    const std::string tag = "sealpost-slot-" + random_hex(8) + "-";
    std::size_t in_slots = 0;
    for (GMimePart* part : leaves(root))
        if (auto bytes = verbatim_content(part)) {
            slots.push_back(std::make_unique<Slot>(part, *bytes, tag + std::to_string(slots.size()) + "."));
            in_slots += bytes->size();
        }
    if (slots.empty()) return write_crlf(root, size_hint);
    const std::string skeleton = write_crlf(root, size_hint > in_slots ? size_hint - in_slots : 0);
    std::string out;
    out.reserve(skeleton.size() + in_slots + in_slots / 32 + 64);
    std::size_t pos = 0;
    for (const auto& slot : slots) {
        const std::string written = slot->written();
        std::size_t at = skeleton.find(written, pos);
        if (at == std::string::npos) {
            // Not where GMime should have put it: let GMime write it all.
            slots.clear();
            return write_crlf(root, size_hint);
        }
        out.append(skeleton, pos, at - pos);
        append_crlf(out, slot->bytes());
        pos = at + written.size();
    }
    out.append(skeleton, pos, std::string::npos);
    return out;
}

}  // namespace sealpost
