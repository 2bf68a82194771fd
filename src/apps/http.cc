// HTTP/1.1 request parsing and resources (RFC 9112, RFC 9110).
#include "apps/http.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

namespace ustack::apps {
namespace {

constexpr std::size_t kMaxHead = 16 * 1024;
constexpr std::uint64_t kMaxBytesResource = std::uint64_t{1} << 40;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// RFC 9110 5.6.2: token = 1*tchar.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return false;
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
  }
}

BodySource string_body(std::string s) {
  auto text = std::make_shared<std::string>(std::move(s));
  return {text->size(), [text](std::uint64_t off, char* buf, std::size_t n) {
            std::copy_n(text->data() + off, n, buf);
            return true;
          }};
}

HttpResponse make_response(int status, BodySource body, const char* type, bool head_only, bool close,
                           const char* extra = "") {
  HttpResponse r;
  r.head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nServer: ustack\r\nContent-Type: " +
           type + "\r\nContent-Length: " + std::to_string(body.length) + "\r\n" + extra +
           (close ? "Connection: close\r\n" : "") + "\r\n";
  r.close = close;
  if (!head_only) r.body = std::move(body);
  return r;
}

HttpResponse error_response(int status, bool head_only, bool close, const char* extra = "") {
  return make_response(status, string_body(std::to_string(status) + " " + reason(status) + "\n"), "text/plain",
                       head_only, close, extra);
}

/// The path of a request target in origin-form, percent-decoded; nullopt if malformed.
bool decode_path(std::string_view target, std::string* path) {
  if (target.empty() || target.front() != '/') return false;
  target = target.substr(0, target.find_first_of("?#"));
  path->clear();
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '%') {
      path->push_back(target[i]);
      continue;
    }
    if (i + 2 >= target.size() || !std::isxdigit(static_cast<unsigned char>(target[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(target[i + 2])))
      return false;
    const char hex[3] = {target[i + 1], target[i + 2], 0};
    const char c = static_cast<char>(std::strtol(hex, nullptr, 16));
    if (c == 0) return false;
    path->push_back(c);
    i += 2;
  }
  return true;
}

const char* content_type(std::string_view path) {
  auto ends = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && iequals(path.substr(path.size() - suffix.size()), suffix);
  };
  if (ends(".html") || ends(".htm")) return "text/html; charset=utf-8";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".css")) return "text/css";
  if (ends(".js")) return "text/javascript";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  return "application/octet-stream";
}

HttpResponse serve_file(const HttpConfig& config, const std::string& path, bool head_only, bool close) {
  // Any ".." segment is refused outright; the resolved file must also lie under
  // the root, so that a symbolic link cannot lead out of it.
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    if (rest.substr(0, slash) == "..") return error_response(403, head_only, close);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  char root_real[PATH_MAX];
  if (!::realpath(config.www_root.c_str(), root_real)) return error_response(404, head_only, close);
  std::string file = std::string(root_real) + path;
  struct stat st;
  if (::stat(file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (file.back() != '/') file += '/';
    file += "index.html";
  }
  char file_real[PATH_MAX];
  if (!::realpath(file.c_str(), file_real)) return error_response(404, head_only, close);
  const std::string_view root_sv(root_real), file_sv(file_real);
  if (file_sv.substr(0, root_sv.size()) != root_sv ||
      (file_sv.size() > root_sv.size() && root_sv != "/" && file_sv[root_sv.size()] != '/'))
    return error_response(403, head_only, close);
  const int fd = ::open(file_real, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error_response(errno == EACCES ? 403 : 404, head_only, close);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return error_response(404, head_only, close);
  }
  auto owned = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  BodySource body{static_cast<std::uint64_t>(st.st_size), [owned](std::uint64_t off, char* buf, std::size_t n) {
                    while (n > 0) {
                      const ssize_t got = ::pread(*owned, buf, n, static_cast<off_t>(off));
                      if (got <= 0) return false;  // an error, or the file shrank
                      buf += got;
                      off += static_cast<std::uint64_t>(got);
                      n -= static_cast<std::size_t>(got);
                    }
                    return true;
                  }};
  return make_response(200, std::move(body), content_type(file_real), head_only, close);
}

constexpr std::string_view kIndex =
    "<!doctype html>\n<html><head><title>ustack</title></head><body>\n"
    "<h1>ustack</h1>\n<p>This page was served by a TCP/IP stack in user space.</p>\n"
    "<p><a href=\"/bytes/1000000\">/bytes/N</a> returns N bytes.</p>\n</body></html>\n";

HttpResponse serve_builtin(const std::string& path, bool head_only, bool close) {
  if (path == "/" || path == "/index.html")
    return make_response(200, string_body(std::string(kIndex)), "text/html; charset=utf-8", head_only, close);
  constexpr std::string_view bytes = "/bytes/";
  if (path.starts_with(bytes)) {
    const std::string n_text = path.substr(bytes.size());
    if (n_text.empty() || n_text.size() > 15 || !std::all_of(n_text.begin(), n_text.end(), ::isdigit))
      return error_response(400, head_only, close);
    const std::uint64_t n = std::strtoull(n_text.c_str(), nullptr, 10);
    if (n > kMaxBytesResource) return error_response(400, head_only, close);
    BodySource body{n, [](std::uint64_t off, char* buf, std::size_t len) {
                      for (std::size_t i = 0; i < len; ++i) buf[i] = static_cast<char>('a' + (off + i) % 26);
                      return true;
                    }};
    return make_response(200, std::move(body), "application/octet-stream", head_only, close);
  }
  return error_response(404, head_only, close);
}

}  // namespace

HttpResponse http_bad_request() { return error_response(400, false, true); }

ParseStatus handle_http_request(const HttpConfig& config, std::string_view in, std::size_t* consumed,
                                HttpResponse* out) {
  // RFC 9112 2.2: "a server that is expecting to receive and parse a
  // request-line SHOULD ignore at least one empty line (CRLF) received prior to
  // the request-line."
  std::size_t skipped = 0;
  while (in.substr(skipped).starts_with("\r\n")) skipped += 2;
  in.remove_prefix(skipped);
  const auto end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return in.size() > kMaxHead ? ParseStatus::bad : ParseStatus::incomplete;
  if (end > kMaxHead) return ParseStatus::bad;
  std::string_view head = in.substr(0, end + 2);
  // request-line = method SP request-target SP HTTP-version
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return ParseStatus::bad;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || version.size() != 8 || !version.starts_with("HTTP/") ||
      !std::isdigit(static_cast<unsigned char>(version[5])) || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[7])))
    return ParseStatus::bad;
  bool keep_alive = version >= "HTTP/1.1";  // RFC 9112 9.3: persistent by default from 1.1
  std::uint64_t content_length = 0;
  bool chunked = false;
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    const std::string_view field = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const auto colon = field.find(':');
    // RFC 9112 5.1: "No whitespace is allowed between the field name and colon."
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) return ParseStatus::bad;
    const std::string_view name = field.substr(0, colon), value = trim(field.substr(colon + 1));
    if (iequals(name, "Connection")) {
      if (has_token(value, "close")) keep_alive = false;
      else if (has_token(value, "keep-alive")) keep_alive = true;
    } else if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 15 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return ParseStatus::bad;
      content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked = true;
    }
  }
  const std::size_t head_len = skipped + end + 4;
  const bool head_only = method == "HEAD";
  const bool close = !keep_alive;
  if (version[5] != '1') {
    *consumed = head_len;
    *out = error_response(505, head_only, true);
    return ParseStatus::ok;
  }
  if (chunked) {  // request bodies in chunks are not supported: answer and close
    *consumed = head_len;
    *out = error_response(501, head_only, true);
    return ParseStatus::ok;
  }
  if (content_length > 1024 * 1024) {
    *consumed = head_len;
    *out = error_response(413, head_only, true);
    return ParseStatus::ok;
  }
  if (in.size() - end - 4 < content_length) return ParseStatus::incomplete;  // the body has not all come
  *consumed = head_len + content_length;                                     // and is ignored
  if (method != "GET" && method != "HEAD") {
    *out = error_response(405, false, close, "Allow: GET, HEAD\r\n");
    return ParseStatus::ok;
  }
  std::string path;
  if (!decode_path(target, &path)) {
    *out = error_response(400, head_only, close);
    return ParseStatus::ok;
  }
  *out = config.www_root.empty() ? serve_builtin(path, head_only, close)
                                 : serve_file(config, path, head_only, close);
  return ParseStatus::ok;
}

char chargen_byte(std::uint64_t offset) {
  constexpr std::uint64_t kLine = 74;  // 72 characters, CR, LF
  const std::uint64_t line = offset / kLine, col = offset % kLine;
  if (col == 72) return '\r';
  if (col == 73) return '\n';
  return static_cast<char>(' ' + (line + col) % 95);
}

}  // namespace ustack::apps
