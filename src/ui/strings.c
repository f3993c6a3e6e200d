#include "ui/strings.h"

#include <stdio.h>

/* The plain strings: [id][lang]. Chinese in the plain register of
 * government service notices (未, 无法, 请勿), English as a clerk would say
 * it across a counter. */
static const char *const str_table[S__LAST][LANG__LAST] = {
    [S_APP_TITLE] = { "社保卡密码修改", "Social Security Card PIN" },
    [S_BTN_LANG] = { "English", "中文" },
    [S_BTN_CANCEL] = { "取消", "Cancel" },
    [S_BTN_CONTINUE] = { "继续办理", "Continue" },
    [S_KEY_BACK] = { "删除", "Delete" },
    [S_KEY_OK] = { "确认", "OK" },
    [S_CARD_LABEL] = { "卡号 %s", "Card %s" },
    [S_HOLDER_LABEL] = { "持卡人 %s", "Holder %s" },
    [S_PIN_HINT_OLD] = { "请输入%d位密码，然后按“确认”", "Type your %d-digit PIN, then press OK" },
    [S_PIN_HINT_NEW] = { "请设置%d位数字的新密码。", "Choose %d digits." },
    [S_PIN_HINT_CONFIRM] = { "请再输入一次新密码，以确认无误", "Type the new PIN once more, to be sure" },
    [S_WRONG_PIN_COUNT] = { "密码错误，还可以再试%d次", "Wrong PIN. %d tries left" },
    [S_WRONG_PIN_LAST] = { "密码错误。这是最后一次机会，再输错一次，卡片将被锁定",
                           "Wrong PIN. This is your last try: one more wrong PIN locks the card" },
    [S_WRONG_PIN_PLAIN] = { "密码错误，请重新输入", "Wrong PIN. Please try again" },
    [S_LAST_TRY] = { "再输错一次，卡片将被锁定。如记不清密码，请不要尝试，请按“忘记密码”在本机重置",
                     "One more wrong PIN locks the card. If you are not sure, do not guess: press Forgot PIN to reset it here" },
    [S_WRONG_LENGTH] = { "请输入%d位数字", "Please type %d digits" },
    [S_WARNING] = { "您还在吗？%d秒后将自动退出", "Are you still there? This ends in %d seconds" },
    [S_COUNTER_ADVICE] = { "请携带身份证到社保服务窗口办理",
                           "Please go to a social security service counter with your ID card" },
    [S_CODE_HINT] = { "请输入技术人员代码，然后按“确认”", "Type the technician code, then press OK" },
    [S_BTN_REQUEUE] = { "重新发送被拒记录（%d）", "Send dead letters again (%d)" },
    [S_BTN_EXIT] = { "退出", "Exit" },
    [S_SV_VERSION] = { "软件版本", "Version" },
    [S_SV_TERMINAL] = { "终端编号", "Terminal" },
    [S_SV_READERS] = { "读卡器", "Readers" },
    [S_SV_READER_USED] = { "在用读卡器", "Reader in use" },
    [S_SV_PROFILE] = { "上一张卡", "Last card profile" },
    [S_SV_BUREAU] = { "社保系统", "Bureau" },
    [S_SV_LAST_ERROR] = { "最近错误", "Last error" },
    [S_SV_OUTBOX] = { "待发送记录", "Outbox" },
    [S_SV_DEAD] = { "被拒记录", "Dead letters" },
    [S_SV_UNMOVABLE] = { "；另有 %d 份滞留在待发送目录", "; %d more stuck in the outbox" },
    [S_SV_UPTIME] = { "已运行", "Uptime" },
    [S_SV_DISK] = { "记录盘可用空间", "Free for the outbox" },
    [S_SV_STORAGE] = { "记录盘", "Outbox disk" },
    [S_SV_NONE] = { "无", "none" },
    [S_SV_OK] = { "正常", "fine" },
    [S_SV_BUREAU_OK] = { "连接正常", "reachable" },
    [S_SV_BUREAU_DOWN] = { "无法连接", "unreachable" },
    [S_SV_BUREAU_UNKNOWN] = { "尚未知", "not known yet" },
    [S_BTN_FORGOT] = { "忘记密码", "Forgot PIN" },
    [S_BTN_RESET] = { "发送验证码", "Text me a code" },
    [S_BLOCKED_CAN_RESET] = { "密码错误次数过多，卡片已锁定。您可以在本机通过手机短信验证码解锁，并立即设置新密码；也可以携带身份证到社保服务窗口办理",
                              "Too many wrong PINs have locked the card. You can unlock it here with a code sent to your phone, and choose a new PIN straight away, or go to a service counter with your ID card" },
    [S_CODE_SENT] = { "验证码已通过短信发送至您的手机 %s", "We have texted a code to your phone %s" },
    [S_CODE_VALID] = { "%d分钟内有效。请输入6位验证码，然后按“确认”", "It is valid for %d minutes. Type the 6 digits, then press OK" },
    [S_CODE_WRONG_COUNT] = { "验证码错误，还可以再试%d次", "Wrong code. %d tries left" },
    [S_LAST_TRY_TITLE] = { "最后一次机会", "Last try" },
    [S_LAST_TRY_COUNTER] = { "再输错一次，卡片将被锁定。如记不清密码，请不要尝试，请到社保服务窗口办理",
                             "One more wrong PIN locks the card. If you are not sure, do not guess: go to a service counter" },
    [S_STEP_OLD] = { "原密码", "Old PIN" },
    [S_STEP_NEW] = { "新密码", "New PIN" },
    [S_STEP_CONFIRM] = { "确认新密码", "Confirm" },
    [S_OLD_PIN_OK] = { "√ 原密码正确", "√ Your current PIN is correct" },
    [S_RULE_EXAMPLES] = { "不能用：%s（数字全相同），%s、%s（数字连续）", " Not allowed: %s (all the same), %s or %s (in a row)" },
    [S_RULE_INITIAL] = { "，初始密码%s，原密码", ", the initial PIN %s, your current PIN" },
    [S_IDLE_INITIAL] = { "未修改过密码的卡，初始密码为%s", "A card whose PIN was never changed has the initial PIN %s" },
    [S_IDLE_WHICH_PIN] = { "本机修改的是社保卡的社保应用密码，不是卡上银行账户的密码",
                           "This changes the card's social security PIN, not the bank PIN on the same card" },
    [S_IDLE_TRIES] = { "密码连续输错多次，卡片将被锁定", "Several wrong PINs in a row lock the card" },
    [S_TOO_SIMPLE_FMT] = { "新密码过于简单，不能使用：数字全部相同（如%s），或数字连续（如%s、%s）。请换一个",
                           "That PIN is too easy to guess: all the same digit (like %s) or digits in a row (like %s or %s). Please choose another" },
    [S_BTN_DONE] = { "知道了", "I understand" },
    [S_UNKNOWN_GONE] = { "刚才的卡片在修改密码时被拔出，无法确认密码是否已修改。办理记录已报送社保部门，请到社保服务窗口查询结果，不要在药店等处试输密码",
                         "The last card was removed mid-change, so its PIN may or may not be new. The bureau has the record: ask at a service counter, not by trying a PIN in a shop" },
    [S_UNKNOWN_ADVICE] = { "无法确认密码是否已修改。办理记录已报送社保部门。请取回卡片，到社保服务窗口查询结果，不要在药店等处试输密码",
                           "We cannot tell whether your PIN changed. The record has been sent to the bureau. Please take your card and ask at a service counter, rather than trying a PIN at a pharmacy" },
    [S_TAKE_CARD_REMINDER] = { "请取走您的卡", "Please take your card" },
    [S_STATION_COUNTER] = { "最近的服务窗口：%s", "Nearest service counter: %s" },
    [S_STATION_HOURS] = { "办理时间：%s", "Open: %s" },
    [S_STATION_HOTLINE] = { "咨询电话：12333", "Helpline: 12333" },
    [S_BTN_REPEAT] = { "重听", "Hear again" },
};

static const char *const str_headings[ST__LAST][LANG__LAST] = {
    [ST_IDLE] = { "请插入社保卡", "Please insert your social security card" },
    [ST_READING_CARD] = { "正在读卡，请稍候", "Reading your card, please wait" },
    [ST_CARD_REJECTED] = { "此卡无法在本机修改密码", "This card's PIN cannot be changed here" },
    [ST_ENTER_OLD_PIN] = { "请输入原密码", "Enter your current PIN" },
    [ST_VERIFYING] = { "正在核对密码，请稍候", "Checking your PIN, please wait" },
    [ST_ENTER_NEW_PIN] = { "请设置新密码", "Choose a new PIN" },
    [ST_CONFIRM_NEW_PIN] = { "请再次输入新密码", "Type the new PIN again" },
    [ST_CHANGING] = { "正在修改密码，请勿拔卡", "Changing your PIN. Do not remove the card" },
    [ST_SUCCESS] = { "密码修改成功", "Your PIN has been changed" },
    [ST_CARD_BLOCKED] = { "卡片已锁定", "Your card is locked" },
    [ST_ERROR] = { "未能办理完成", "This could not be completed" },
    [ST_OUT_OF_SERVICE] = { "本机暂停服务", "This terminal is out of service" },
    [ST_TAKE_CARD] = { "请取回您的社保卡", "Please take your card" },
    [ST_SERVICE_CODE] = { "技术人员代码", "Technician code" },
    [ST_SERVICE] = { "维护信息", "Service" },
    [ST_RESET_OFFER] = { "忘记密码？可在本机重置", "Forgot your PIN? Reset it here" },
    [ST_RESET_REQUESTING] = { "正在发送短信验证码", "Sending a code to your phone" },
    [ST_ENTER_RESET_CODE] = { "请输入短信验证码", "Type the code from the text message" },
    [ST_RESET_AUTHORIZING] = { "正在核对验证码，请稍候", "Checking the code, please wait" },
    [ST_RESETTING] = { "正在重置密码，请勿拔卡", "Resetting your PIN. Do not remove the card" },
};

/* Where a notice changes what the screen is about, the heading follows it:
 * a heading must never contradict the sentence under it. */
static const struct {
    core_state s;
    core_notice n;
    const char *text[LANG__LAST];
} str_notice_headings[] = {
    { ST_CARD_BLOCKED, NT_CARD_LOCKED, { "此卡已永久锁定，需要换卡", "This card is locked for good and must be replaced" } },
    { ST_ERROR, NT_CHANGE_UNKNOWN, { "无法确认密码是否已修改", "We cannot tell whether your PIN was changed" } },
};

/* The sentence under the heading: by state for a plain visit, then by
 * notice (the same notice reads the same on every screen). */
static const char *const str_state_bodies[ST__LAST][LANG__LAST] = {
    [ST_IDLE] = { "芯片朝上，按箭头方向插入下方卡槽", "Chip side up, into the slot below, as the arrows show" },
    [ST_READING_CARD] = { "请勿拔出卡片", "Please do not remove the card" },
    [ST_VERIFYING] = { "请勿拔出卡片", "Please do not remove the card" },
    [ST_CHANGING] = { "需要几秒钟，请稍候", "This takes a few seconds" },
    [ST_SUCCESS] = { "请取回社保卡，并牢记新密码", "Please take your card, and remember your new PIN" },
    [ST_CARD_BLOCKED] = { "密码错误次数过多，卡片已锁定。请取回卡片，携带身份证到社保服务窗口解锁",
                          "Too many wrong PINs have locked the card. Please take it and your ID card to a social security service counter to have it unlocked" },
    [ST_ERROR] = { "密码未修改。请取回卡片", "Your PIN has not been changed. Please take your card" },
    [ST_OUT_OF_SERVICE] = { "请取回卡片，到社保服务窗口办理", "Please take your card and go to a service counter" },
    [ST_TAKE_CARD] = { "密码未修改", "Your PIN has not been changed" },
    [ST_RESET_OFFER] = { "我们将向您在社保部门登记的手机号发送6位短信验证码。输入验证码后，卡片密码将恢复为初始密码，随后请您立即设置新密码。办理需要本卡和登记的手机",
                         "We will text a 6-digit code to the phone number the bureau has for you. Once you type it, the card goes back to the initial PIN and you choose a new PIN straight away. You need this card and that phone" },
    [ST_RESET_REQUESTING] = { "请稍候，请勿拔出卡片", "Please wait, and do not remove the card" },
    [ST_RESET_AUTHORIZING] = { "请稍候，请勿拔出卡片", "Please wait, and do not remove the card" },
    [ST_RESETTING] = { "需要几秒钟，请稍候", "This takes a few seconds" },
};

static const char *const str_notice_bodies[NT__LAST][LANG__LAST] = {
    [NT_PINS_DIFFER] = { "两次输入的新密码不一致，请重新设置新密码",
                         "The two new PINs were not the same. Please choose the new PIN again" },
    [NT_PIN_TOO_SIMPLE] = { "新密码过于简单，请换一个", "That PIN is too easy to guess. Please choose another" },
    [NT_PIN_IS_INITIAL] = { "新密码不能是初始密码，请换一个", "The new PIN cannot be the initial PIN. Please choose another" },
    [NT_PIN_SAME_AS_OLD] = { "新密码不能与原密码相同，请换一个", "The new PIN must not be the same as the current one. Please choose another" },
    [NT_CARD_REMOVED] = { "卡片已拔出，密码未修改", "The card was removed. Your PIN has not been changed" },
    [NT_BUREAU_UNREACHABLE] = { "暂时无法连接社保系统。请取回卡片，稍后再试，或到社保服务窗口办理",
                                "The social security system cannot be reached. Please take your card and try again later, or go to a service counter" },
    [NT_ON_INITIAL_PIN] = { "您的卡仍在使用初始密码，请设置一个只有您知道的新密码",
                            "Your card still has the initial PIN. Please choose a new PIN that only you know" },
    [NT_CANCELLED] = { "已取消，密码未修改", "Cancelled. Your PIN has not been changed" },
    [NT_TIMED_OUT] = { "长时间无操作，已自动退出，密码未修改", "Nothing was pressed for a while, so this was ended. Your PIN has not been changed" },
    [NT_CARD_LOST] = { "此卡已挂失。请取回卡片，携带身份证到社保服务窗口办理",
                       "This card has been reported lost. Please take it and your ID card to a social security service counter" },
    [NT_CARD_FROZEN] = { "此卡已冻结。请取回卡片，携带身份证到社保服务窗口办理",
                         "This card is frozen. Please take it and your ID card to a social security service counter" },
    [NT_CARD_CANCELLED] = { "此卡已注销。请取回卡片，携带身份证到社保服务窗口办理",
                            "This card has been cancelled. Please take it and your ID card to a social security service counter" },
    [NT_CARD_UNKNOWN] = { "社保系统中查询不到此卡。请取回卡片，携带身份证到社保服务窗口办理",
                          "This card is not found in the social security system. Please take it and your ID card to a service counter" },
    [NT_CARD_UNREADABLE] = { "无法读取此卡。请确认插入的是社保卡且芯片朝上；如仍无法读取，请到社保服务窗口办理",
                             "This card cannot be read. Please check that it is a social security card, chip side up. If it still cannot be read, go to a service counter" },
    [NT_CARD_EXPIRED] = { "此卡已超过有效期。请携带身份证到社保服务窗口换卡",
                          "This card has expired. Please go to a service counter with your ID card for a new one" },
    [NT_CARD_LOCKED] = { "此卡无法解锁，需要换卡。请携带身份证到社保服务窗口办理",
                         "This card cannot be unlocked. Please go to a service counter with your ID card to have it replaced" },
    [NT_CARD_ERROR] = { "卡片响应异常，密码未修改。请取回卡片后重试",
                        "The card did not respond as expected. Your PIN has not been changed. Please take your card and try again" },
    [NT_CHANGE_UNKNOWN] = { "无法确认密码是否已经修改。请用新密码试一次；如有疑问，请到服务窗口查询",
                            "We could not confirm whether your PIN was changed. Try your new PIN; if in doubt, ask at a service counter" },
    [NT_STORAGE_FAILED] = { "本机暂时无法办理，密码未修改。请取回卡片，到社保服务窗口办理",
                            "This terminal cannot complete this right now. Your PIN has not been changed. Please take your card to a service counter" },
    [NT_READER_UNAVAILABLE] = { "本机暂时无法读卡，密码未修改。请到社保服务窗口办理",
                                "This terminal cannot read cards right now. Nothing has been changed. Please go to a service counter" },
    [NT_WRONG_CODE] = { "代码错误，请重新输入", "Wrong code. Please try again" },
    [NT_STORAGE_DOWN] = { "本机暂时无法记录密码修改，暂停办理。请到社保服务窗口办理",
                          "This terminal cannot record PIN changes right now, so it is not taking any. Please go to a service counter" },
    [NT_CODE_WRONG] = { "验证码错误，请重新输入", "Wrong code. Please type it again" },
    [NT_CODE_EXPIRED] = { "验证码已过期，密码未修改。请取回卡片，稍后重新办理",
                          "The code has expired. Nothing has been changed. Please take your card and start again later" },
    [NT_RESET_VOID] = { "验证码已输错3次，本次重置作废，密码未修改。请取回卡片，明天再试，或携带身份证到社保服务窗口办理",
                        "The code was wrong three times, so this reset has been cancelled. Nothing has been changed. Please take your card and try again tomorrow, or go to a service counter with your ID card" },
    [NT_NO_PHONE_ON_FILE] = { "社保系统未登记您的手机号，无法发送验证码。请携带身份证到社保服务窗口办理，或拨打12333咨询",
                              "The bureau has no phone number on file for you, so no code can be sent. Please go to a service counter with your ID card, or call 12333" },
    [NT_TOO_MANY_RESETS] = { "此卡今日已重置3次，已达上限。请明天再试，或携带身份证到社保服务窗口办理",
                             "This card has already been reset 3 times today, the most allowed. Please try again tomorrow, or go to a service counter with your ID card" },
    [NT_RESET_REFUSED] = { "卡片未接受重置，密码未修改。请取回卡片，携带身份证到社保服务窗口办理",
                           "The card did not accept the reset. Nothing has been changed. Please take your card and your ID card to a service counter" },
    [NT_RESET_UNAVAILABLE] = { "暂时无法连接社保系统，现在无法重置，密码未修改。请稍后再试，或拨打12333咨询",
                               "The social security system cannot be reached, so the PIN cannot be reset now. Nothing has been changed. Please try again later, or call 12333" },
    [NT_CARD_NOT_ACTIVE] = { "此卡已挂失、冻结或注销，无法在本机重置密码。请携带身份证到社保服务窗口办理",
                             "This card has been reported lost, frozen or cancelled, so it cannot be reset here. Please go to a service counter with your ID card" },
    [NT_RESET_FAILED] = { "本次重置未能完成，密码未修改。请取回卡片后重新办理，或到社保服务窗口办理",
                          "The reset could not be completed. Nothing has been changed. Please take your card and start again, or go to a service counter" },
    [NT_PIN_WAS_RESET] = { "密码已恢复为初始密码。请现在设置一个只有您知道的新密码",
                           "Your PIN is back to the initial PIN. Now choose a new PIN that only you know" },
};

const char *str_get(str_id id, core_lang lang)
{
    return id < S__LAST && lang < LANG__LAST ? str_table[id][lang] : "";
}

const char *str_heading(core_state s, core_lang lang)
{
    return s < ST__LAST && lang < LANG__LAST ? str_headings[s][lang] : "";
}

const char *str_heading_for(core_state s, core_notice n, core_lang lang)
{
    for (size_t i = 0; i < sizeof str_notice_headings / sizeof str_notice_headings[0]; i++)
        if (str_notice_headings[i].s == s && str_notice_headings[i].n == n && lang < LANG__LAST)
            return str_notice_headings[i].text[lang];
    return str_heading(s, lang);
}

const char *str_body(core_state s, core_notice n, core_lang lang)
{
    const char *r = NULL;

    if (lang >= LANG__LAST || s >= ST__LAST)
        return "";
    if (n < NT__LAST)
        r = str_notice_bodies[n][lang];
    if (r == NULL)
        r = str_state_bodies[s][lang];
    return r ? r : "";
}

char *str_fmt(char *buf, size_t len, str_id id, core_lang lang, int n)
{
    /* The format comes from the table above, never from outside. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, len, str_get(id, lang), n);
#pragma GCC diagnostic pop
    return buf;
}

void str_each(void (*fn)(const char *s, void *ud), void *ud)
{
    for (int l = 0; l < LANG__LAST; l++) {
        for (int i = 0; i < S__LAST; i++)
            fn(str_table[i][l] ? str_table[i][l] : "", ud);
        for (int i = 0; i < ST__LAST; i++) {
            fn(str_headings[i][l] ? str_headings[i][l] : "", ud);
            if (str_state_bodies[i][l])
                fn(str_state_bodies[i][l], ud);
        }
        for (int i = 0; i < NT__LAST; i++)
            if (str_notice_bodies[i][l])
                fn(str_notice_bodies[i][l], ud);
        for (size_t i = 0; i < sizeof str_notice_headings / sizeof str_notice_headings[0]; i++)
            fn(str_notice_headings[i].text[l], ud);
    }
}
