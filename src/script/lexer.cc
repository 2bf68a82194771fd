// Tokenizer for packetdrill scripts.
#include "script/lexer.h"

#include <cctype>

namespace ustack::script {
namespace {

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

base::Result<std::vector<Token>, SyntaxError> tokenize(std::string_view s) {
  std::vector<Token> out;
  int line = 1;
  int depth = 0;
  bool space = true;
  bool line_start = true;
  std::size_t i = 0;
  auto push = [&](Token::Kind k, std::string text, int at_line) {
    out.push_back({k, std::move(text), at_line, space});
    space = false;
    line_start = false;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      if (depth == 0 && !out.empty() && out.back().kind != Token::Kind::newline)
        out.push_back({Token::Kind::newline, "\n", line, true});
      ++line;
      ++i;
      space = true;
      if (depth == 0) line_start = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      ++i;
      continue;
    }
    if (s.substr(i, 2) == "//") {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (s.substr(i, 2) == "/*") {
      const int start = line;
      const auto end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return SyntaxError{start, "unterminated comment"};
      for (std::size_t j = i; j < end; ++j)
        if (s[j] == '\n') ++line;
      i = end + 2;
      space = true;
      continue;
    }
    if (c == '`') {
      const int start = line;
      const auto end = s.find('`', i + 1);
      if (end == std::string_view::npos) return SyntaxError{start, "unterminated shell command"};
      std::string text(s.substr(i + 1, end - i - 1));
      for (char ch : text)
        if (ch == '\n') ++line;
      push(Token::Kind::shell, std::move(text), start);
      i = end + 1;
      continue;
    }
    if (c == '"') {
      const auto end = s.find('"', i + 1);
      if (end == std::string_view::npos || s.substr(i, end - i).find('\n') != std::string_view::npos)
        return SyntaxError{line, "unterminated string"};
      push(Token::Kind::string, std::string(s.substr(i + 1, end - i - 1)), line);
      i = end + 1;
      continue;
    }
    if (line_start && depth == 0 && s.substr(i, 2) == "--") {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      push(Token::Kind::option, std::string(s.substr(i, j - i)), line);
      i = j;
      continue;
    }
    // A fraction without its leading zero (".1", "+.01"), as packetdrill's own
    // scripts write times; "..." (a range) is not one.
    if (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]) && (i == 0 || s[i - 1] != '.')) {
      std::size_t j = i + 1;
      while (j < s.size() && is_digit(s[j])) ++j;
      push(Token::Kind::number, "0" + std::string(s.substr(i, j - i)), line);
      i = j;
      continue;
    }
    if (is_digit(c)) {
      std::size_t j = i;
      if (s.substr(i, 2) == "0x" || s.substr(i, 2) == "0X") {
        j += 2;
        while (j < s.size() && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
      } else {
        while (j < s.size() && is_digit(s[j])) ++j;
        if (j + 1 < s.size() && s[j] == '.' && is_digit(s[j + 1])) {
          ++j;
          while (j < s.size() && is_digit(s[j])) ++j;
        }
      }
      push(Token::Kind::number, std::string(s.substr(i, j - i)), line);
      i = j;
      continue;
    }
    if (is_word_start(c)) {
      std::size_t j = i;
      while (j < s.size() && is_word_char(s[j])) ++j;
      push(Token::Kind::word, std::string(s.substr(i, j - i)), line);
      i = j;
      continue;
    }
    if (s.substr(i, 3) == "...") {
      push(Token::Kind::punct, "...", line);
      i += 3;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    push(Token::Kind::punct, std::string(1, c), line);
    ++i;
  }
  if (!out.empty() && out.back().kind != Token::Kind::newline)
    out.push_back({Token::Kind::newline, "\n", line, true});
  return out;
}

}  // namespace ustack::script
