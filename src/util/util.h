/* util: the module's public header — error reporting, logging, allocation,
 * value parsing and the clock object. */
#ifndef ARAS_UTIL_UTIL_H
#define ARAS_UTIL_UTIL_H

#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/parse.h"
#include "util/strmap.h"

#endif
