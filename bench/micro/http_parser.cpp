// Micro-benchmarks of reactor/http's request-head parser on the heads a server
// sees most: a browser GET with ten fields and the short GET wrk sends. When
// Debian's libhttp-parser-dev is installed, the same bytes go through it too,
// with callbacks that keep the same views (method, URL, every field), so the
// two figures compare like for like.
#include <benchmark/benchmark.h>

#include <string_view>
#include <vector>

#include "reactor/http/parser.h"

#ifdef SUBHTTPD_HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

namespace {

namespace http = subhttpd::reactor::http;

constexpr std::string_view browser_get =
    "GET /articles/2024/http-parsing.html?utm_source=feed&page=2 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://www.example.com/articles/\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=5f2b8c9e1a7d4e3f; theme=dark; _ga=GA1.2.1234567890.1700000000\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Priority: u=0, i\r\n"
    "\r\n";

constexpr std::string_view wrk_get = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

void parse_ours(benchmark::State& state, std::string_view raw) {
    http::request_head head;  // reused, as a connection does
    http::parse_error err;
    http::limits lim;
    for (auto _ : state) {
        http::result r = http::parse_head(raw, lim, head, err);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(head.head_bytes);
        if (r != http::result::complete) state.SkipWithError("parse failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}

void BM_parse_head_browser_get(benchmark::State& state) { parse_ours(state, browser_get); }
void BM_parse_head_wrk_get(benchmark::State& state) { parse_ours(state, wrk_get); }
BENCHMARK(BM_parse_head_browser_get);
BENCHMARK(BM_parse_head_wrk_get);

#ifdef SUBHTTPD_HAVE_HTTP_PARSER
// What the callbacks gather: the same views parse_head gives a connection.
struct gathered {
    std::string_view url;
    std::vector<http::header_field> headers;
    bool complete = false;
};

int on_url(http_parser* p, const char* at, std::size_t len) {
    static_cast<gathered*>(p->data)->url = {at, len};
    return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t len) {
    static_cast<gathered*>(p->data)->headers.push_back({{at, len}, {}});
    return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t len) {
    static_cast<gathered*>(p->data)->headers.back().value = {at, len};
    return 0;
}
int on_headers_complete(http_parser* p) {
    static_cast<gathered*>(p->data)->complete = true;
    return 0;
}

void parse_http_parser(benchmark::State& state, std::string_view raw) {
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    gathered g;
    http_parser p;
    for (auto _ : state) {
        g.headers.clear();
        g.complete = false;
        http_parser_init(&p, HTTP_REQUEST);
        p.data = &g;
        std::size_t used = http_parser_execute(&p, &settings, raw.data(), raw.size());
        benchmark::DoNotOptimize(used);
        benchmark::DoNotOptimize(http_should_keep_alive(&p));
        if (!g.complete || HTTP_PARSER_ERRNO(&p) != HPE_OK) state.SkipWithError("http_parser failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}

void BM_libhttp_parser_browser_get(benchmark::State& state) { parse_http_parser(state, browser_get); }
void BM_libhttp_parser_wrk_get(benchmark::State& state) { parse_http_parser(state, wrk_get); }
BENCHMARK(BM_libhttp_parser_browser_get);
BENCHMARK(BM_libhttp_parser_wrk_get);
#endif

}  // namespace
