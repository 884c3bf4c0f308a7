// The scenario layer must not see the command line: this include has to fail in the app target.
#include "command_line.hpp"
