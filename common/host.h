#pragma once
// The one Host-header parser. Routing (the site key), mod_python's
// req.hostname and the CGI/WSGI SERVER_NAME / SERVER_PORT all split the header
// here, so they agree on every request. Pure; any thread.
#include <string>
#include <string_view>

namespace subhttpd::host {

struct host_port {
    std::string_view name;  // as written; an IPv6 literal keeps its brackets: "[::1]"
    std::string_view port;  // "" when the header names none
};

// "example.com:8080" -> {"example.com", "8080"}; "[::1]:80" -> {"[::1]", "80"};
// "[::1]" -> {"[::1]", ""}; a bare IPv6 address ("::1", more than one colon)
// has no port. Surrounding spaces and tabs are dropped.
host_port split(std::string_view header);

// The name sites are matched on: lower-case, no brackets, no port, no trailing
// dot ("WWW.Example.COM.:8080" -> "www.example.com", "[::1]:80" -> "::1").
std::string key(std::string_view header);

// SERVER_PORT as Apache's ap_get_server_port gives it with UseCanonicalName Off
// (the default), for mod_python's add_common_vars and WSGI alike: the Host
// header's port, else the port the request came in on, else the scheme's.
std::string server_port(std::string_view header, unsigned local_port, bool https);

}  // namespace subhttpd::host
