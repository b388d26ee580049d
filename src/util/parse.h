/* parse: strict parsing of numbers, durations, sizes and rates from text.
 *
 * Every function rejects empty input, trailing garbage, and values outside the
 * given range, and records a message naming the offending text with err_set()
 * (callers prefix it with file:line or the option name). Used by the config
 * parser, the CLI and the HTTP API alike.
 */
#ifndef ARAS_UTIL_PARSE_H
#define ARAS_UTIL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_uint64(const char *s, uint64_t max, uint64_t *out);
int parse_double(const char *s, double min, double max, double *out);
/* "yes/no", "true/false", "on/off", "1/0". */
int parse_bool(const char *s, bool *out);
/* Duration: "250ms", "30s", "2m", "1h", "1d"; a bare number means seconds. */
int parse_duration_ms(const char *s, int64_t *out_ms);
/* Size: "512", "4k", "4KiB", "64M", "2G", "1T" (binary multiples; "KB"/"MB" too). */
int parse_size_bytes(const char *s, uint64_t *out);
/* Bit rate: "100Mbit", "1Gbit", "2.5Gbit", "800kbit", or bytes "12MB/s";
 * returns bytes per second. */
int parse_rate_bytes_per_s(const char *s, double *out);
/* Percentage "80", "80%", "80.5%"; range 0..100 unless allow_over. */
int parse_percent(const char *s, bool allow_over, double *out);

#endif
