// The `wsgi` setting: split into target, attribute and factory arguments, and a
// small recursive-descent check of literal arguments (Python's ast.literal_eval
// grammar: numbers, strings, bytes, True/False/None, tuples, lists, dicts, sets).
#include "conf/wsgi_spec.h"

#include <set>

#include "common/text.h"

namespace subhttpd::conf {
namespace {

using text::trim;

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

bool is_identifier(std::string_view s) {
    if (s.empty() || !ident_start(s[0])) {
        return false;
    }
    for (char c : s) {
        if (!ident_char(c)) {
            return false;
        }
    }
    return true;
}

bool is_dotted(std::string_view s) {
    std::size_t pos = 0;
    while (true) {
        auto dot = s.find('.', pos);
        if (!is_identifier(s.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        pos = dot + 1;
    }
}

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

class literal_checker {
public:
    explicit literal_checker(std::string_view s) : s_(s) {}

    std::string arguments() {
        std::set<std::string> keywords;
        skip();
        while (pos_ < s_.size()) {
            // `name=` (but not `name==`) starts a keyword argument.
            std::size_t save = pos_;
            std::string name;
            if (ident_start(s_[pos_])) {
                std::size_t end = pos_;
                while (end < s_.size() && ident_char(s_[end])) {
                    ++end;
                }
                std::size_t eq = end;
                while (eq < s_.size() && (s_[eq] == ' ' || s_[eq] == '\t')) {
                    ++eq;
                }
                if (eq < s_.size() && s_[eq] == '=' && (eq + 1 >= s_.size() || s_[eq + 1] != '=')) {
                    name = std::string(s_.substr(pos_, end - pos_));
                    pos_ = eq + 1;
                }
            }
            if (name.empty() && !keywords.empty()) {
                pos_ = save;
                return "a positional argument follows a keyword argument";
            }
            if (!name.empty() && !keywords.insert(name).second) {
                return "keyword argument '" + name + "' is repeated";
            }
            if (auto e = value(); !e.empty()) {
                return e;
            }
            skip();
            if (pos_ < s_.size()) {
                if (s_[pos_] != ',') {
                    return "expected ',' between arguments at '" + std::string(s_.substr(pos_)) + "'";
                }
                ++pos_;
                skip();
            }
        }
        return "";
    }

private:
    void skip() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }

    std::string value() {
        skip();
        if (pos_ >= s_.size()) {
            return "an argument is missing";
        }
        if (++depth_ > 64) {
            return "arguments nest too deeply";
        }
        std::string e = value_inner();
        --depth_;
        return e;
    }

    std::string value_inner() {
        const char c = s_[pos_];
        if (c == '[' || c == '(' || c == '{') {
            return container(c);
        }
        if (c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
            return number();
        }
        if (ident_start(c)) {
            std::size_t end = pos_;
            while (end < s_.size() && ident_char(s_[end])) {
                ++end;
            }
            std::string_view word = s_.substr(pos_, end - pos_);
            if (end < s_.size() && (s_[end] == '\'' || s_[end] == '"') && word.size() <= 2) {
                bool prefix = true;
                for (char p : word) {
                    prefix = prefix && std::string_view("rRbBuU").find(p) != std::string_view::npos;
                }
                if (prefix) {
                    pos_ = end;
                    return strings();
                }
            }
            if (word == "True" || word == "False" || word == "None") {
                pos_ = end;
                return "";
            }
            return "'" + std::string(word) +
                   "' is not a literal (arguments may be numbers, strings, True, False, None, "
                   "and tuples, lists, dicts or sets of those)";
        }
        if (c == '\'' || c == '"') {
            return strings();
        }
        return "unexpected '" + std::string(1, c) + "' in the arguments";
    }

    // Adjacent string literals concatenate, as in Python.
    std::string strings() {
        while (true) {
            if (auto e = one_string(); !e.empty()) {
                return e;
            }
            skip();
            std::size_t p = pos_;
            while (p < s_.size() && p - pos_ < 2 && std::string_view("rRbBuU").find(s_[p]) != std::string_view::npos) {
                ++p;
            }
            if (p >= s_.size() || (s_[p] != '\'' && s_[p] != '"')) {
                return "";
            }
            pos_ = p;
        }
    }

    std::string one_string() {
        const char q = s_[pos_];
        const bool triple = s_.substr(pos_, 3) == std::string_view(std::string(3, q));
        pos_ += triple ? 3 : 1;
        while (pos_ < s_.size()) {
            if (s_[pos_] == '\\') {
                pos_ += 2;
                continue;
            }
            if (s_[pos_] == q) {
                if (!triple) {
                    ++pos_;
                    return "";
                }
                if (s_.substr(pos_, 3) == std::string_view(std::string(3, q))) {
                    pos_ += 3;
                    return "";
                }
            }
            ++pos_;
        }
        return "a string in the arguments is not closed";
    }

    std::string number() {
        std::size_t start = pos_;
        while (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
            ++pos_;
            skip();
        }
        bool digits = false;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if ((c >= '0' && c <= '9') || c == '.' || c == '_' || (c >= 'a' && c <= 'f') ||
                (c >= 'A' && c <= 'F') || c == 'x' || c == 'X' || c == 'o' || c == 'O' || c == 'j' || c == 'J') {
                digits = digits || (c >= '0' && c <= '9');
                ++pos_;
            } else if ((c == '+' || c == '-') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E')) {
                ++pos_;
            } else if ((c == '+' || c == '-') && digits) {
                // a complex literal: "1+2j"
                ++pos_;
            } else {
                break;
            }
        }
        if (!digits) {
            return "'" + std::string(s_.substr(start, pos_ - start + 1)) + "' is not a number";
        }
        return "";
    }

    std::string container(char open) {
        const char close = open == '[' ? ']' : open == '(' ? ')' : '}';
        ++pos_;
        skip();
        bool dict = false, first = true;
        while (pos_ < s_.size() && s_[pos_] != close) {
            if (auto e = value(); !e.empty()) {
                return e;
            }
            skip();
            if (open == '{') {
                const bool colon = pos_ < s_.size() && s_[pos_] == ':';
                if (first) {
                    dict = colon;
                } else if (colon != dict) {
                    return "a dict and a set are mixed in the arguments";
                }
                if (colon) {
                    ++pos_;
                    if (auto e = value(); !e.empty()) {
                        return e;
                    }
                    skip();
                }
            }
            first = false;
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                skip();
            } else if (pos_ < s_.size() && s_[pos_] != close) {
                return "expected ',' or '" + std::string(1, close) + "' at '" + std::string(s_.substr(pos_)) + "'";
            }
        }
        if (pos_ >= s_.size()) {
            return "'" + std::string(1, open) + "' is not closed in the arguments";
        }
        ++pos_;
        return "";
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

}  // namespace

std::string check_literal_args(std::string_view text) { return literal_checker(text).arguments(); }

std::string parse_wsgi_spec(std::string_view text, wsgi_spec& out) {
    out = wsgi_spec{};
    text = trim(text);
    if (text.empty()) {
        return "is empty";
    }
    // The colon that separates target and attribute is the last one before any '('.
    const auto paren = text.find('(');
    const auto head = text.substr(0, paren);
    const auto colon = head.rfind(':');
    std::string_view target = colon == std::string_view::npos ? head : head.substr(0, colon);
    std::string_view expr = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (colon == std::string_view::npos && paren != std::string_view::npos) {
        return "a factory call needs 'module:factory(...)'";
    }
    target = trim(target);
    expr = trim(expr);
    if (target.empty()) {
        return "names no module or file before ':'";
    }
    // "mysite.wsgi" stays a module name unless a file of that name exists (the
    // caller, which knows the folder, decides); a '/' or a non-name is a path.
    out.is_file = target.find('/') != std::string_view::npos || !is_dotted(target);
    out.target = std::string(target);
    if (colon != std::string_view::npos && expr.empty()) {
        return "names no callable after ':'";
    }
    std::string_view name = expr;
    if (const auto p = expr.find('('); p != std::string_view::npos) {
        if (expr.back() != ')') {
            return "factory call '" + std::string(expr) + "' must end with ')'";
        }
        name = trim(expr.substr(0, p));
        out.call = true;
        out.args = std::string(expr.substr(p + 1, expr.size() - p - 2));
        if (auto e = check_literal_args(out.args); !e.empty()) {
            return "factory arguments '" + out.args + "': " + e;
        }
    }
    if (!name.empty() && !is_dotted(name)) {
        return "'" + std::string(name) + "' is not a Python name (expected callable, obj.attr or factory(...))";
    }
    out.attr = name.empty() ? "application" : std::string(name);
    return "";
}

}  // namespace subhttpd::conf
