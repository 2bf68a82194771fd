// A small HTTP/1.1 origin server's logic (RFC 9112 message syntax, RFC 9110
// semantics): request parsing, persistence, and the resources served (files
// under a root, or a built-in index and /bytes/N). No sockets here: server.cc
// moves the bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ustack::apps {

struct HttpConfig {
  std::string www_root;  // empty: the built-in pages
};

/// A body produced on demand, so that large ones are never held whole:
/// read(offset, buf, n) fills buf with the n bytes at offset (false: I/O error).
struct BodySource {
  std::uint64_t length = 0;
  std::function<bool(std::uint64_t offset, char* buf, std::size_t n)> read;
};

struct HttpResponse {
  std::string head;    // status line and header fields, ending in the empty line
  BodySource body;     // empty for HEAD
  bool close = false;  // the connection closes after this response
};

enum class ParseStatus { incomplete, ok, bad };

/// Takes one request from the front of `in`: ok with *consumed set, incomplete
/// (wait for more bytes), or bad (answer 400 and close). Then routes it.
ParseStatus handle_http_request(const HttpConfig& config, std::string_view in, std::size_t* consumed,
                                HttpResponse* out);
/// The response to a malformed request (400, Connection: close).
HttpResponse http_bad_request();

/// RFC 864 character generator: the byte at `offset` of the endless stream of
/// 72-character lines, each shifted one character along the 95 printable ASCII.
char chargen_byte(std::uint64_t offset);

}  // namespace ustack::apps
