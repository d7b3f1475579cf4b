// SPDX-License-Identifier: MIT
// make_half_models DIR: writes the hand-built reduced-precision models,
// DIR/half_f16.mtia and DIR/half_bf16.mtia (tests/models/half_models.h) and
// DIR/quant.mtia (quant_models.h), for the in-VM precision tests.
#include <cstdio>
#include <fstream>
#include <string>

#include "half_models.h"
#include "quant_models.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_half_models DIR\n");
        return 1;
    }
    for (const model_test::ModelSpec &spec :
         {model_test::half_model(MTIA_DTYPE_F16), model_test::half_model(MTIA_DTYPE_BF16), model_test::quant_model()}) {
        const std::vector<uint8_t> img = model_test::build(spec);
        const std::string path = std::string(argv[1]) + "/" + spec.name + ".mtia";
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char *>(img.data()), static_cast<std::streamsize>(img.size()));
        f.close();
        if (!f) {
            std::fprintf(stderr, "make_half_models: cannot write %s\n", path.c_str());
            return 1;
        }
        std::printf("%s\n", path.c_str());
    }
    return 0;
}
