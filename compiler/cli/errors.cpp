#include "compiler/cli/errors.h"

#include <iostream>
#include <new>
#include <string>

#include "alls/errors.h"
#include "calib/calib_set.h"
#include "common/file_io.h"
#include "compiler/ir/types.h"
#include "runtime/engine/program.h"

namespace kiln::cli {

namespace {

// Messages that already carry "FILE:LINE:COL: error:" (model scripts) print as they are.
int userError(const std::string& what) {
  const bool located = what.substr(0, what.find('\n')).find(": error: ") != std::string::npos;
  std::cerr << (located ? "" : "kiln: error: ") << what << "\n";
  return 1;
}

}  // namespace

int reportError(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return userError(x.what());
  } catch (const alls::ScriptError& x) {  // "FILE:LINE:COL: error: ..." lines, as they are
    std::cerr << x.what() << "\n";
    return 1;
  } catch (const calib::CalibError& x) {
    return userError(x.what());
  } catch (const files::FileError& x) {  // also npy::NpyError
    return userError(x.what());
  } catch (const rt::Error& x) {
    // The runtime's checks (limits, a corrupt .kef) during kiln compile's verification.
    return userError(std::string("runtime: ") + x.what());
  } catch (const std::bad_alloc&) {
    std::cerr << "kiln: error: out of memory\n";
    return 1;
  } catch (const std::exception& x) {
    std::cerr << "kiln: internal error: " << x.what() << "\n";
    return 2;
  } catch (...) {
    std::cerr << "kiln: internal error: unknown exception\n";
    return 2;
  }
}

}  // namespace kiln::cli
