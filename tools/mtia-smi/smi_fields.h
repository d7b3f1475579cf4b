// SPDX-License-Identifier: MIT
// --query fields (nvidia-smi's --query-gpu): names, units, values per
// device, and their CSV and JSON forms. Pure functions of SmiDevice, so
// they are unit-tested without a device (tests/unit/smi_fields_test.cc).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

// A field's value: not available, an integer, a real with a precision, or text.
struct Value {
    enum class Kind { kNa, kInt, kReal, kText } kind = Kind::kNa;
    int64_t i = 0;
    double d = 0;
    int precision = 0;
    std::string s;
};

struct Field {
    std::string name;
    std::string unit;  // "" if none; shown as "[unit]" in CSV headers
    std::string help;
    Value (*get)(const SmiDevice &dev, const std::string &timestamp);
};

// Every field, in --list-fields order.
const std::vector<Field> &all_fields();

// A --query-compute-apps field: one value per process.
struct AppField {
    std::string name;    // as asked for
    std::string header;  // as nvidia-smi heads it (used_memory -> used_gpu_memory)
    std::string unit;
    std::string help;
    Value (*get)(const ProcessUsage &p, const SmiDevice *dev, const std::string &timestamp);
};
const std::vector<AppField> &all_app_fields();
std::vector<const AppField *> parse_app_field_list(const std::string &list);

class UnknownField : public std::invalid_argument {
public:
    explicit UnknownField(const std::string &name)
        : std::invalid_argument("Field \"" + name + "\" is not a valid field to query."), name_(name)
    {
    }
    const std::string &name() const noexcept { return name_; }

private:
    std::string name_;
};

// "index,temperature.die, power.draw" -> fields, in order (duplicates kept,
// as asked). Throws UnknownField; std::invalid_argument for an empty list.
std::vector<const Field *> parse_field_list(const std::string &list);

// UnknownField's message is nvidia-smi's: Field "foo" is not a valid field to query.

// --format: "csv" with optional ",noheader" and/or ",nounits", or "json".
struct OutputFormat {
    bool json = false;
    bool header = true;
    bool units = true;
};
// Throws std::invalid_argument naming the bad word.
OutputFormat parse_format(const std::string &spec);

// One value as CSV text: "3.01 W" (or "3.01" without units), "[N/A]".
std::string format_value(const Value &v, const std::string &unit, bool units);

// nvidia-smi style CSV: a header line (unless !fmt.header), then one line
// per device; fields separated by ", ", text quoted only if it must be.
std::string format_query_csv(const std::vector<SmiDevice> &devs, const std::vector<const Field *> &fields,
                             const OutputFormat &fmt, const std::string &timestamp);
// A JSON array, one object per device, keyed by field name; numbers in the
// field's unit, N/A as null.
std::string format_query_json(const std::vector<SmiDevice> &devs, const std::vector<const Field *> &fields,
                              const std::string &timestamp);
// --query-compute-apps: a header line (unless !fmt.header), then one line per
// process using one of @devs.
std::string format_apps_csv(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                            const std::vector<const AppField *> &fields, const OutputFormat &fmt,
                            const std::string &timestamp);
// --help-query-gpu: every field and what it means, as nvidia-smi lists them.
std::string format_help_query_gpu();
// --list-fields: name, unit and description of every field.
std::string format_field_list();

}  // namespace mtia::smi
