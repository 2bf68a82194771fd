// Tokens of a packetdrill script: numbers, words, punctuation, strings, shell
// commands in backticks and `--option=value` lines. Comments are dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "script/script.h"

namespace ustack::script {

struct Token {
  enum class Kind { number, word, punct, string, shell, option, newline };
  Kind kind = Kind::punct;
  std::string text;
  int line = 0;
  bool space_before = false;  // whitespace separates it from the previous token
};

/// Newlines inside (), [] and {} are not statement ends.
base::Result<std::vector<Token>, SyntaxError> tokenize(std::string_view text);

}  // namespace ustack::script
