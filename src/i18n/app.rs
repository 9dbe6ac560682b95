//! Strings of the app's own pages.

super::catalogue!(Messages {
    app_name => "shoplink", "shoplink";
    connect_zalo => "Kết nối Zalo", "Connect Zalo";
    error_shop_id_invalid => "Mã cửa hàng ITS không hợp lệ.", "The ITS shop id is not valid.";
    error_shop_key_invalid => "Khoá cửa hàng không hợp lệ.", "The shop key is not valid.";
    error_state_invalid => "Trạng thái không hợp lệ.", "Unknown state.";
    error_role_invalid => "Vai trò không hợp lệ.", "Unknown role.";
    error_email_invalid => "Địa chỉ email không hợp lệ.", "The email address is not valid.";
    error_phone_invalid => "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).", "The phone number is not valid (e.g. 0912 345 678).";
    error_shop_name_empty => "Vui lòng nhập tên cửa hàng.", "Please enter the shop name.";
    error_shop_name_too_long => "Tên cửa hàng dài quá 200 ký tự.", "The shop name is longer than 200 characters.";
    error_text_control_chars => "Nội dung chứa ký tự điều khiển không được phép.", "The text contains control characters that are not allowed.";
});
