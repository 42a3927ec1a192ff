// `subhttpd route`; see route.h.
#include "reactor/cli/route.h"

#include <cstring>
#include <iostream>

#include "conf/config.h"
#include "hosts/route.h"
#include "reactor/cli/dev.h"

namespace subhttpd::reactor {

void split_url(const std::string& url, std::string& host, std::string& target) {
    host.clear();
    target = url;
    for (const char* scheme : {"http://", "https://"}) {
        if (url.rfind(scheme, 0) == 0) {
            std::string rest = url.substr(std::strlen(scheme));
            auto slash = rest.find('/');
            host = rest.substr(0, slash);
            target = slash == std::string::npos ? "/" : rest.substr(slash);
        }
    }
    if (target.empty() || target[0] != '/') {
        target = "/" + target;
    }
}

int explain_route(const route_options& o) {
    conf::load_result r = conf::load(o.config_path);
    if (!r.ok()) {
        for (const auto& e : r.errors) {
            std::cerr << conf::to_string(e) << "\n";
        }
        return 1;
    }
    r.cfg = dev::with_dev_overrides(r.cfg, o.dev);  // what `run --dev` would serve
    std::string host, target;
    split_url(o.url, host, target);
    hosts::request_line line{host, o.method, target};
    hosts::route rt = hosts::resolve(*r.cfg, line);
    std::cout << (o.json ? hosts::explain_json(rt, line) : hosts::explain(rt, line));
    if (o.json) {
        std::cout << "\n";
    }
    return 0;
}

}  // namespace subhttpd::reactor
