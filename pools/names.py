"""Names shown to people, in the page's language: pools and conditions carry an English and a
Chinese name; provinces are stored in English (pinyin) and shown in Chinese on Chinese pages."""

from django.utils.translation import get_language

PROVINCES_ZH = {
    "Anhui": "安徽",
    "Beijing": "北京",
    "Chongqing": "重庆",
    "Fujian": "福建",
    "Gansu": "甘肃",
    "Guangdong": "广东",
    "Guangxi": "广西",
    "Guizhou": "贵州",
    "Hainan": "海南",
    "Hebei": "河北",
    "Heilongjiang": "黑龙江",
    "Henan": "河南",
    "Hong Kong": "香港",
    "Hubei": "湖北",
    "Hunan": "湖南",
    "Inner Mongolia": "内蒙古",
    "Jiangsu": "江苏",
    "Jiangxi": "江西",
    "Jilin": "吉林",
    "Liaoning": "辽宁",
    "Macau": "澳门",
    "Ningxia": "宁夏",
    "Qinghai": "青海",
    "Shaanxi": "陕西",
    "Shandong": "山东",
    "Shanghai": "上海",
    "Shanxi": "山西",
    "Sichuan": "四川",
    "Taiwan": "台湾",
    "Tianjin": "天津",
    "Tibet": "西藏",
    "Xinjiang": "新疆",
    "Yunnan": "云南",
    "Zhejiang": "浙江",
}


def chinese_page() -> bool:
    return (get_language() or "").lower().startswith("zh")


def in_page_language(english: str, chinese: str) -> str:
    return chinese if chinese and chinese_page() else english


def province_name(province: str) -> str:
    """A stored province (English) as the page's language says it; unknown names as typed."""
    return in_page_language(province, PROVINCES_ZH.get((province or "").strip().title(), ""))
