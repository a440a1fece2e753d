//! Rule monitoring: where each rule would fire in new traces.
