//! Model files: any input reads as a model or a typed error, never a panic;
//! a model read back writes the same JSON.
#![no_main]
use idstitch::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(model) = Model::from_json(data) {
        let json = model.to_json();
        let again = Model::from_json(&json).expect("written model reads back");
        assert_eq!(again.to_json(), json);
    }
});
