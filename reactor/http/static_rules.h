#pragma once
// static_rules: the pure decisions behind a static-file answer — ETags, HTTP
// dates, conditional requests (RFC 9110 13.2.2 order) and byte ranges (RFC 9110
// 14), shaped after nginx's static, not_modified and range modules. No I/O and no
// clock: the caller passes the file's mtime and size. Any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace subhttpd::reactor::http {

// One satisfiable range, both ends inclusive, as Content-Range writes it.
struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t length() const { return last - first + 1; }
    bool operator==(const byte_range&) const = default;
};

// More satisfiable ranges than this and the Range field is ignored (200, whole
// file), as nginx does past its max_ranges.
inline constexpr std::size_t max_ranges = 16;

enum class range_kind : std::uint8_t {
    ignore,         // no usable Range: answer the whole representation (200)
    satisfiable,    // 206 with `ranges`
    unsatisfiable,  // 416 with Content-Range: bytes */size
};

struct range_set {
    range_kind kind = range_kind::ignore;
    std::vector<byte_range> ranges;  // in request order, clipped to the file; only when satisfiable
};

// Parses a Range field value against a representation of `size` bytes.
// A unit other than bytes, invalid syntax (including last < first), an empty
// file, more than `limit` satisfiable ranges, or ranges that together ask for
// more than the file (nginx's guard against overlap amplification) → ignore.
// No satisfiable range → unsatisfiable.
range_set parse_range(std::string_view value, std::uint64_t size, std::size_t limit = max_ranges);

// nginx's strong ETag: "<mtime hex>-<size hex>", quotes included.
std::string make_etag(std::int64_t mtime, std::uint64_t size);

// Whether an If-Match (weak = false: strong comparison, W/ tags never match) or
// If-None-Match (weak = true) field value names `etag`. "*" matches any; a
// malformed list matches nothing from the first bad element on.
bool etag_list_matches(std::string_view field, std::string_view etag, bool weak);

// If-Range: an entity tag must equal `etag` by strong comparison; otherwise the
// value must be an HTTP-date equal to the Last-Modified second.
bool if_range_matches(std::string_view value, std::string_view etag, std::int64_t mtime);

// RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms.
// Seconds since the epoch, or nullopt when the value is not a valid HTTP-date.
std::optional<std::int64_t> parse_http_date(std::string_view value);
// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t t);

// The request fields that steer a file answer; each repeated field is joined
// with ", " as a list field would be; nullopt when absent.
struct file_conditions {
    std::optional<std::string> if_match;
    std::optional<std::string> if_unmodified_since;
    std::optional<std::string> if_none_match;
    std::optional<std::string> if_modified_since;
    std::optional<std::string> if_range;
    std::optional<std::string> range;
};

struct file_validators {
    std::string_view etag;
    std::int64_t mtime = 0;
    std::uint64_t size = 0;
};

struct file_plan {
    int status = 200;                // 200, 206, 304, 412 or 416
    std::vector<byte_range> ranges;  // for 206: one range, or several (multipart)
};

// The answer to a GET or HEAD of a regular file (HEAD gets the same status and
// headers as GET, ranges included, as nginx does; the body is dropped below).
file_plan plan_file_response(const file_conditions& c, const file_validators& v);

// "bytes first-last/size" and "bytes */size".
std::string content_range(const byte_range& r, std::uint64_t size);
std::string unsatisfied_range(std::uint64_t size);

// multipart/byteranges framing (RFC 9110 14.6) in nginx's layout: each part is
// part_head + data; the body ends with multipart_tail.
std::string multipart_content_type(std::string_view boundary);
std::string multipart_part_head(std::string_view boundary, std::string_view content_type,
                                const byte_range& r, std::uint64_t size);
std::string multipart_tail(std::string_view boundary);

}  // namespace subhttpd::reactor::http
