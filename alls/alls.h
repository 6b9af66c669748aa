// Model scripts (.alls): parser, command table and validator, layer references.
#pragma once

#include "alls/ast.h"
#include "alls/commands.h"
#include "alls/errors.h"
#include "alls/layer_refs.h"
#include "alls/parser.h"
